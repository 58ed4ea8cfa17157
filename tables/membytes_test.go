package tables

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"

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

// TestBlockCacheHoldsBlocks: Pebble reserves the memtables' bytes in the
// block cache, so a 16 MiB cache sized as given held no block at all (the
// two 64 MiB memtables reserve more than it has) and every read went to
// disk. The store sizes the cache for the blocks on top of the memtables:
// a table that fits is read from the cache the second time, and a scan
// larger than the cache leaves it no larger than --cache-size.
func TestBlockCacheHoldsBlocks(t *testing.T) {
	const size = 16 << 20
	s, err := Open(t.TempDir(), WithCacheSize(size))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	cols := []schema.Column{{Name: "v", Type: schema.TypeString}}
	fill := func(table string, n int) *schema.Table {
		t.Helper()
		tbl, err := s.EnsureTable("d", table, cols)
		if err != nil {
			t.Fatal(err)
		}
		const per = 50_000
		for b := 0; b*per < n; b++ {
			recs := make([]Record, per)
			for i := range recs {
				recs[i] = Record{Offset: int64(b*per + i), Values: []schema.Value{schema.Str(fmt.Sprintf("a value of some length %d", (b*per+i)*7919))}}
			}
			if _, err := s.Apply(tbl, []Feed{{Src: 1, Partition: 0, Records: recs, Next: int64((b + 1) * per)}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.db.Flush(); err != nil {
			t.Fatal(err)
		}
		return tbl
	}
	read := func(tbl *schema.Table) (hits, misses int64) {
		t.Helper()
		before := s.db.Metrics().BlockCache
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: tablePrefix(tbl.ID), UpperBound: tableEnd(tbl.ID)})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for it.First(); it.Valid(); it.Next() {
			n++
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("read no rows")
		}
		after := s.db.Metrics().BlockCache
		return after.Hits - before.Hits, after.Misses - before.Misses
	}

	small := fill("small", 50_000) // about 2 MB of sstable blocks
	if _, misses := read(small); misses == 0 {
		t.Fatal("the first read of a flushed table missed no block")
	}
	hits, misses := read(small)
	if hits == 0 || misses > hits/10 {
		t.Fatalf("second read of a table that fits the cache: %d hits, %d misses; want it served from the cache", hits, misses)
	}

	big := fill("big", 1_000_000) // more than the cache holds
	read(big)
	m := s.Memory()
	if m.BlockCacheCapacity != size {
		t.Fatalf("capacity = %d, want %d", m.BlockCacheCapacity, size)
	}
	if m.BlockCacheBytes == 0 || m.BlockCacheBytes > size+size/16 {
		t.Fatalf("block cache holds %d bytes after a scan larger than it, want more than 0 and at most about %d", m.BlockCacheBytes, size)
	}
}
