package tables

import (
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
)

// TestDiskBytesIncludeMemtable: a table whose rows are all in the memtable
// has a size; after a flush the size comes from the sstables and the
// memtable part is zero, not counted twice.
func TestDiskBytesIncludeMemtable(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	tbl, err := s.EnsureTable("d", "t", []schema.Column{{Name: "v", Type: schema.TypeString}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]Record, 1000)
	for i := range recs {
		recs[i] = Record{Offset: int64(i), Values: []schema.Value{schema.Str("a value of some length to count")}}
	}
	if _, err := s.Apply(tbl, []Feed{{Src: 1, Partition: 0, Records: recs, Next: 1000}}); err != nil {
		t.Fatal(err)
	}
	before := s.Stats(tbl).DiskBytes
	if before < 1000*30 {
		t.Fatalf("size before a flush = %d, want at least the 30 KB written", before)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if u := s.mem.unflushed(tbl.ID); u != 0 {
		t.Fatalf("unflushed after a flush = %d", u)
	}
	after := s.Stats(tbl).DiskBytes
	if after == 0 || after > before*2 {
		t.Fatalf("size after a flush = %d (before %d)", after, before)
	}
	if err := s.DropTable("d", "t"); err != nil {
		t.Fatal(err)
	}
	if u := s.mem.unflushed(tbl.ID); u != 0 {
		t.Fatalf("a dropped table still counts %d bytes", u)
	}
}
