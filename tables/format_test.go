package tables

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// TestVersion1DirOpensAndSeals: a data dir written by format 1 (rows only)
// opens, is marked version 2, and its rows are sealed like new ones.
func TestVersion1DirOpensAndSeals(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.EnsureTable("d", "t", []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "v", Type: schema.TypeInt}})
	if err != nil {
		t.Fatal(err)
	}
	f := Feed{Src: 1, Next: 1000}
	for i := range 1000 {
		f.Records = append(f.Records, Record{Offset: int64(i), Values: []schema.Value{schema.TimestampMicros(int64(i)), schema.Int(int64(i))}})
	}
	if _, err := s.Apply(tbl, []Feed{f}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(formatKey, binary.BigEndian.AppendUint32(nil, 1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("a version 1 dir was refused: %v", err)
	}
	defer func() { _ = s.Close() }()
	v, closer, err := s.db.Get(formatKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(v); got != FormatVersion {
		t.Fatalf("format %d after opening a version 1 dir, want %d", got, FormatVersion)
	}
	_ = closer.Close()
	tbl, _ = s.Table("d", "t")
	res, err := s.SealAll(context.Background(), time.Now().Add(time.Hour).UnixMicro())
	if err != nil || res.Rows != 1000 {
		t.Fatalf("sealed %d rows (%v), want 1000", res.Rows, err)
	}
	it, err := s.Scan(context.Background(), tbl, TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	n := 0
	for it.Next() {
		if it.Row()[5].I != int64(n) {
			t.Fatalf("row %d has v %d", n, it.Row()[5].I)
		}
		n++
	}
	if it.Err() != nil || n != 1000 {
		t.Fatalf("%d rows after sealing (%v)", n, it.Err())
	}
}
