package node

import (
	"testing"
	"time"
)

func TestExpandWindow(t *testing.T) {
	prev := time.Date(2026, 11, 25, 11, 55, 0, 0, time.UTC)
	cur := prev.Add(5 * time.Minute)
	got := expandWindow(`sql d "select count(*) from t where timestamp >= TIME(PREVIOUS) and timestamp < time(current)"`, prev, cur)
	want := `sql d "select count(*) from t where timestamp >= '2026-11-25 11:55:00.000000' and timestamp < '2026-11-25 12:00:00.000000'"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
