package tables_test

import (
	"context"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestResetPositions: a reset below what a table holds takes back the
// table's rows from the new offset on, durably, so the re-read stores each
// record once; the marks move back and forth and survive a reopen.
// The rows are sealed into blocks or not: a reset takes rows back from
// blocks (rewriting them) as from rows.
func TestResetPositions(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "rows", true: "sealed"}[sealed], func(t *testing.T) { testResetPositions(t, sealed) })
	}
}

func testResetPositions(t *testing.T, sealed bool) {
	dir := t.TempDir()
	s, err := tables.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := s.EnsureTable("d", "t", pingCols)
	other, _ := s.EnsureTable("d", "other", pingCols)
	feed := func(src uint32, from, to int64) tables.Feed {
		f := tables.Feed{Src: src, Partition: 0, Next: to}
		for o := from; o < to; o++ {
			f.Records = append(f.Records, tables.Record{Offset: o, Values: ping(o*1000, o)})
		}
		return f
	}
	if _, err := s.Apply(tbl, []tables.Feed{feed(2, 0, 10)}); err != nil {
		t.Fatal(err)
	}
	// Rows of another source are not touched.
	if _, err := s.Apply(other, []tables.Feed{feed(3, 0, 4)}); err != nil {
		t.Fatal(err)
	}
	if sealed {
		if res, err := s.SealAll(context.Background(), time.Now().Add(time.Hour).UnixMicro()); err != nil || res.Rows != 14 {
			t.Fatalf("sealed %d rows (%v), want 14", res.Rows, err)
		}
	}
	for _, p := range []int32{0, 1} {
		if err := s.SetLowWater(2, p, 10); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ResetPositions(2, map[int32]int64{0: 6, 1: 40})
	if err != nil || len(got) != 1 || got[0].Table != "d.t" || got[0].Rows != 4 {
		t.Fatalf("reset: %+v %v; want 4 rows of d.t taken back", got, err)
	}
	if _, err := s.ResetPositions(2, map[int32]int64{0: -1}); err == nil {
		t.Fatal("a negative offset was stored")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = tablestest.OpenDir(t, dir)
	for p, want := range map[int32]int64{0: 6, 1: 40} {
		if got, ok := s.LowWater(2, p); !ok || got != want {
			t.Errorf("partition %d: low-water mark %d %v after reopen, want %d", p, got, ok, want)
		}
	}
	tbl, _ = s.Table("d", "t")
	other, _ = s.Table("d", "other")
	if off, ok := s.TableOffset(tbl.ID, 2, 0); !ok || off != 6 {
		t.Fatalf("table offset %d %v after the reset, want 6", off, ok)
	}
	if st := s.Stats(tbl); st.Rows != 6 || len(tablestest.Dump(t, s, "d", "t")) != 6 {
		t.Fatalf("rows %d after the reset, want 6", st.Rows)
	}
	// The re-read from the start stores offsets 6..9 again, once.
	res, err := s.Apply(tbl, []tables.Feed{feed(2, 0, 10)})
	if err != nil || res.Rows != 4 || res.Skipped != 6 {
		t.Fatalf("re-read after the reset: %+v %v; want 4 rows stored and 6 skipped", res, err)
	}
	if n := len(tablestest.Dump(t, s, "d", "t")); n != 10 || s.Stats(tbl).Rows != 10 {
		t.Fatalf("%d rows after the re-read, want 10", n)
	}
	if n := len(tablestest.Dump(t, s, "d", "other")); n != 4 || s.Stats(other).Rows != 4 {
		t.Fatalf("another source's table has %d rows, want 4", n)
	}
}
