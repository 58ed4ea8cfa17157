package node

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// TestSealLoopMergesSmallBlocks: the seal loop seals what each commit
// brings as a block of its own, then merges the small blocks into one.
func TestSealLoopMergesSmallBlocks(t *testing.T) {
	n := startNodeWith(t, func(c *Config) { c.SealAfter = 100 * time.Millisecond })
	s := n.Store()
	tbl, err := s.EnsureTable("d", "t", []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	waitSealed := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows, blocks, err := s.SealedRows(tbl)
			if err != nil {
				t.Fatal(err)
			}
			if rows == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d rows sealed in %d blocks after 30 s, want %d", rows, blocks, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	const per = 10_000
	for p := range 4 {
		f := tables.Feed{Src: 1, Partition: int32(p), Next: per}
		for i := range per {
			f.Records = append(f.Records, tables.Record{Offset: int64(i), Values: []schema.Value{
				schema.Str("device-" + strconv.Itoa(i%10)), schema.Timestamp(t0.Add(time.Duration(p*per+i) * time.Millisecond)), schema.Int(int64(i)),
			}})
		}
		if _, err := s.Apply(tbl, []tables.Feed{f}); err != nil {
			t.Fatal(err)
		}
		waitSealed(int64(p+1) * per)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, blocks, err := s.SealedRows(tbl)
		if err != nil {
			t.Fatal(err)
		}
		if blocks == 1 && rows == 4*per {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows in %d blocks after 30 s; want the 4 small blocks merged into 1 (merged so far: %d)", rows, blocks, s.Sealed().Merged)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.Sealed().Merged; got != 4 {
		t.Errorf("%d blocks merged, want 4", got)
	}
	res := n.Execute(t.Context(), `sql d "select count(*), sum(value) from t"`, ExecOptions{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if want := strconv.Itoa(4 * (per - 1) * per / 2); !strings.Contains(res.Text, "40000") || !strings.Contains(res.Text, want) {
		t.Errorf("count and sum after the merge:\n%s\nwant 40000 and %s", res.Text, want)
	}
}
