package tables_test

import (
	"context"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestDropTableForgetsItsPartitions: dropping a table deletes the low-water
// marks of the partitions that fed only it, and their rejected messages in
// the error table, so consuming them again re-creates the table; a partition
// that also fed another table keeps its position.
// With the rows sealed or not: the error rows go from blocks too.
func TestDropTableForgetsItsPartitions(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "rows", true: "sealed"}[sealed], func(t *testing.T) { testDropTableForgetsItsPartitions(t, sealed) })
	}
}

func testDropTableForgetsItsPartitions(t *testing.T, sealed bool) {
	dir := t.TempDir()
	s := tablestest.OpenDir(t, dir)
	a, err := s.EnsureTable("d", "a", pingCols)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.EnsureTable("d", "b", pingCols)
	if err != nil {
		t.Fatal(err)
	}
	errT, err := s.EnsureTable(tables.ErrorsDBMS, tables.ErrorsTable, tables.ErrorTableColumns)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(tbl *schema.Table, part int32, rows ...[]schema.Value) {
		t.Helper()
		recs := make([]tables.Record, len(rows))
		for i, r := range rows {
			recs[i] = tables.Record{Offset: int64(i), Values: r}
		}
		if _, err := s.Apply(tbl, []tables.Feed{{Src: 1, Partition: part, Records: recs, Next: int64(len(rows))}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLowWater(1, part, int64(len(rows))); err != nil {
			t.Fatal(err)
		}
	}
	bad := func(part int32) []schema.Value {
		return []schema.Value{schema.Str("1"), schema.Str("t"), schema.Int(int64(part)), schema.Int(9), schema.Str("not_json"), schema.TimestampMicros(1), schema.Str("x")}
	}
	// Partition 0 feeds only a; partition 1 feeds a and b.
	feed(a, 0, ping(1, 1), ping(2, 2))
	feed(a, 1, ping(3, 3))
	feed(b, 1, ping(4, 4))
	feed(errT, 0, bad(0), bad(0))
	feed(errT, 1, bad(1))
	if sealed {
		if res, err := s.SealAll(context.Background(), time.Now().Add(time.Hour).UnixMicro()); err != nil || res.Rows != 7 {
			t.Fatalf("sealed %d rows (%v), want 7", res.Rows, err)
		}
	}

	if err := s.DropTable("d", "a"); err != nil {
		t.Fatal(err)
	}
	check := func(s *tables.Store) {
		t.Helper()
		if _, ok := s.LowWater(1, 0); ok {
			t.Error("partition 0 fed only the dropped table and kept its low-water mark")
		}
		if v, ok := s.LowWater(1, 1); !ok || v != 1 {
			t.Errorf("partition 1 feeds b: low-water mark = %d, %v", v, ok)
		}
		et, _ := s.Table(tables.ErrorsDBMS, tables.ErrorsTable)
		rows := tablestest.Dump(t, s, tables.ErrorsDBMS, tables.ErrorsTable)
		if len(rows) != 1 || s.Stats(et).Rows != 1 {
			t.Errorf("error table: %d rows, stats %d; want partition 1's one row", len(rows), s.Stats(et).Rows)
		}
		if _, ok := s.TableOffset(et.ID, 1, 0); ok {
			t.Error("the error table kept its offset for partition 0")
		}
		if _, ok := s.TableOffset(et.ID, 1, 1); !ok {
			t.Error("the error table lost its offset for partition 1")
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(tablestest.OpenDir(t, dir))
}
