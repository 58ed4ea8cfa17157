package command

import (
	"testing"
	"time"
)

func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 37, 12, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"now()", now},
		{"start of year", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Start Of Month", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"start of day", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"start of hour", time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)},
		{"start of minute", time.Date(2026, 11, 25, 14, 37, 0, 0, time.UTC)},
		{"+2h", now.Add(2 * time.Hour)},
		{"+1d", now.AddDate(0, 0, 1)},
		{"+1w", now.AddDate(0, 0, 7)},
		{"+1m", now.AddDate(0, 1, 0)},
		{"+1y", now.AddDate(1, 0, 0)},
		{"+5t", now.Add(5 * time.Minute)},
		{"+30s", now.Add(30 * time.Second)},
		{"+3 days", now.AddDate(0, 0, 3)},
		{"+10 minutes", now.Add(10 * time.Minute)},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-12-01 08:30", time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)},
		{"2026-12-01 08:30:15", time.Date(2026, 12, 1, 8, 30, 15, 0, time.UTC)},
		{"2026-12-01T08:30:15+01:00", time.Date(2026, 12, 1, 7, 30, 15, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := ParseStart(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseStart(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "+", "+2q", "start of week", "2026-13-01"} {
		if _, err := ParseStart(bad, now); err == nil {
			t.Errorf("ParseStart(%q): no error", bad)
		}
	}
}

func TestFirstRun(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 37, 0, 0, time.UTC)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		start time.Time
		every time.Duration
		want  time.Time
	}{
		{now.Add(time.Hour), time.Minute, now.Add(time.Hour)},            // future: as given
		{now, time.Minute, now},                                          // now: at once
		{day, time.Hour, time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)}, // aligned to the start
		{day, 15 * time.Minute, time.Date(2026, 11, 25, 14, 45, 0, 0, time.UTC)},
		{day, 37 * time.Minute, day.Add(24 * 37 * time.Minute)},
	}
	for _, c := range cases {
		if got := FirstRun(c.start, c.every, now); !got.Equal(c.want) {
			t.Errorf("FirstRun(%v, %v) = %v, want %v", c.start, c.every, got, c.want)
		}
	}
}

func TestScheduleStartParses(t *testing.T) {
	r, err := Parse(`schedule time = 1 hour and start = "start of day" and name = "x" task get version`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.(*Schedule); s.Start != "start of day" || s.Every != time.Hour {
		t.Fatalf("%+v", s)
	}
	if _, err := Parse(`schedule time = 1 hour and start = yesterday and name = "x" task get version`, nil); err == nil {
		t.Fatal("a bad start parses")
	}
	r, err = Parse(`task init where name = "x" and start = +2h`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tc := r.(*TaskControl); tc.Op != "init" || tc.Start != "+2h" {
		t.Fatalf("%+v", tc)
	}
	if _, err := Parse(`task init where name = "x"`, nil); err == nil {
		t.Fatal("task init without start parses")
	}
	if _, err := Parse(`task stop where name = "x" and start = +2h`, nil); err == nil {
		t.Fatal("task stop with start parses")
	}
}
