package tablestest

import (
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
)

func TestLoadDumpReopen(t *testing.T) {
	dir := t.TempDir()
	s := OpenDir(t, dir)
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "name", Type: schema.TypeString}}
	rows := [][]schema.Value{
		{schema.TimestampMicros(2000), schema.Str("b")},
		{schema.TimestampMicros(1000), schema.Str("a")},
		{schema.TimestampMicros(3000)}, // trailing NULL
	}
	tbl := Load(t, s, "d", "t", cols, rows)
	if tbl.FullName() != "d.t" || len(tbl.Columns) != schema.NumSystemColumns+2 {
		t.Fatalf("table %+v", tbl)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = OpenDir(t, dir)
	got := Dump(t, s, "d", "t")
	want := []schema.Row{
		{schema.TimestampMicros(1000), schema.Str("a")},
		{schema.TimestampMicros(2000), schema.Str("b")},
		{schema.TimestampMicros(3000), schema.Null},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows", len(got))
	}
	for i, r := range got {
		if len(r) != len(tbl.Columns) {
			t.Fatalf("row %d has %d columns", i, len(r))
		}
		for c, v := range want[i] {
			if r[schema.NumSystemColumns+c] != v {
				t.Errorf("row %d column %d: got %v want %v", i, c, r[schema.NumSystemColumns+c], v)
			}
		}
	}
	// Load numbers the rows as offsets 0, 1, 2 of source 1, partition 0.
	if off, ok := s.TableOffset(tbl.ID, 1, 0); !ok || off != 3 {
		t.Fatalf("offset %d %v", off, ok)
	}
	if Open(t) == nil {
		t.Fatal("no store")
	}
}
