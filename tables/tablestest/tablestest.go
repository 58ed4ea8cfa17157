// Package tablestest helps other packages' tests use a tables.Store: open one
// on a temporary dir, load rows, dump a table.
package tablestest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// Open opens a store on a fresh temporary dir, closed at the end of the test.
func Open(t testing.TB) *tables.Store {
	t.Helper()
	return OpenDir(t, t.TempDir())
}

// OpenDir opens the store in dir, closed at the end of the test.
func OpenDir(t testing.TB, dir string) *tables.Store {
	t.Helper()
	s, err := tables.Open(dir, tables.WithCacheSize(16<<20))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Load creates dbms.table with cols and writes rows (user columns) as if
// consumed from partition 0 of source 1 at offsets 0, 1, 2...
func Load(t testing.TB, s *tables.Store, dbms, table string, cols []schema.Column, rows [][]schema.Value) *schema.Table {
	t.Helper()
	tbl, err := Write(s, dbms, table, cols, rows)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// Write is Load for a caller without a testing.TB (a node process of
// cluster/clustertest).
func Write(s *tables.Store, dbms, table string, cols []schema.Column, rows [][]schema.Value) (*schema.Table, error) {
	tbl, err := s.EnsureTable(dbms, table, cols)
	if err != nil {
		return nil, fmt.Errorf("creating %s.%s: %w", dbms, table, err)
	}
	recs := make([]tables.Record, len(rows))
	for i, r := range rows {
		recs[i] = tables.Record{Offset: int64(i), Values: r}
	}
	if _, err := s.Apply(tbl, []tables.Feed{{Src: 1, Partition: 0, Records: recs, Next: int64(len(rows))}}); err != nil {
		return nil, fmt.Errorf("loading %s.%s: %w", dbms, table, err)
	}
	return tbl, nil
}

// Dump returns every row of dbms.table (all columns) in storage order.
func Dump(t testing.TB, s *tables.Store, dbms, table string) []schema.Row {
	t.Helper()
	tbl, ok := s.Table(dbms, table)
	if !ok {
		t.Fatalf("table %s.%s does not exist", dbms, table)
	}
	it, err := s.Scan(context.Background(), tbl, tables.TimeRange{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	var out []schema.Row
	for it.Next() {
		out = append(out, append(schema.Row(nil), it.Row()...))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Sealing says how much of a loaded table LoadSealed seals into column
// blocks.
type Sealing int

const (
	// SealNone leaves every row as a row.
	SealNone Sealing = iota
	// SealHalf seals the first half of the rows and leaves the second
	// (whose times may fall among the first's): scans merge the two.
	SealHalf
	// SealAll seals every row.
	SealAll
)

func (s Sealing) String() string { return [...]string{"rows", "half sealed", "sealed"}[s] }

// LoadSealed is Load, then seals as seal says.
func LoadSealed(t testing.TB, s *tables.Store, dbms, table string, cols []schema.Column, rows [][]schema.Value, seal Sealing) *schema.Table {
	t.Helper()
	tbl, err := WriteSealed(s, dbms, table, cols, rows, seal)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// WriteSealed is LoadSealed for a caller without a testing.TB.
func WriteSealed(s *tables.Store, dbms, table string, cols []schema.Column, rows [][]schema.Value, seal Sealing) (*schema.Table, error) {
	tbl, err := s.EnsureTable(dbms, table, cols)
	if err != nil {
		return nil, fmt.Errorf("creating %s.%s: %w", dbms, table, err)
	}
	apply := func(from, to int) (time.Time, error) {
		recs := make([]tables.Record, 0, to-from)
		for i := from; i < to; i++ {
			recs = append(recs, tables.Record{Offset: int64(i), Values: rows[i]})
		}
		r, err := s.Apply(tbl, []tables.Feed{{Src: 1, Partition: 0, Records: recs, Next: int64(to)}})
		if err != nil {
			return time.Time{}, fmt.Errorf("loading %s.%s: %w", dbms, table, err)
		}
		return r.CommitTime, nil
	}
	var before time.Time
	switch seal {
	case SealNone:
		_, err := apply(0, len(rows))
		return tbl, err
	case SealHalf:
		if _, err := apply(0, len(rows)/2); err != nil {
			return nil, err
		}
		if before, err = apply(len(rows)/2, len(rows)); err != nil {
			return nil, err
		}
	default:
		if _, err := apply(0, len(rows)); err != nil {
			return nil, err
		}
		before = time.Now().Add(time.Hour)
	}
	if _, err := s.Seal(context.Background(), tbl, before.UnixMicro()); err != nil {
		return nil, fmt.Errorf("sealing %s.%s: %w", dbms, table, err)
	}
	return tbl, nil
}
