package tables

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// TimeRange bounds a scan by the time column: [From, To) in µs.
type TimeRange struct {
	From, To       int64
	HasFrom, HasTo bool
}

// Iter iterates over a table's rows in time order, over a consistent view
// taken when the scan started; it never blocks writers.
type Iter struct {
	ctx     context.Context
	table   string
	it      *pebble.Iterator
	row     schema.Row
	err     error
	scanned int64
	started bool
	need    []bool // columns to decode; nil: all
	hook    func() error
}

type scanHookKey struct{}

// WithScanHook returns a context under which every scan calls hook after
// each row it reads (on the scan's goroutine); an error from hook ends the
// scan with that error (Iter.Err). The query actors count the rows their
// scans read with it, for `get queries`.
func WithScanHook(ctx context.Context, hook func() error) context.Context {
	return context.WithValue(ctx, scanHookKey{}, hook)
}

// Scan returns an iterator over t's rows in r.
func (s *Store) Scan(ctx context.Context, t *schema.Table, r TimeRange) (*Iter, error) {
	lo, hi := ScanBounds(t, r)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", t.FullName(), err)
	}
	hook, _ := ctx.Value(scanHookKey{}).(func() error)
	return &Iter{ctx: ctx, table: t.FullName(), it: it, row: make(schema.Row, len(t.Columns)), hook: hook}, nil
}

// ScanBounds are the store keys a scan of t over r reads: [lo, hi).
func ScanBounds(t *schema.Table, r TimeRange) (lo, hi []byte) {
	lo, hi = tablePrefix(t.ID), tableEnd(t.ID)
	if r.HasFrom {
		lo = rowTimeBound(t.ID, r.From)
	}
	if r.HasTo {
		hi = rowTimeBound(t.ID, r.To)
	}
	return lo, hi
}

// Only limits decoding to the columns whose need entry is true; the others
// read as NULL (strings are then not copied). Call it before Next.
func (i *Iter) Only(need []bool) { i.need = need }

// Next moves to the next row; false at the end or on error (see Err).
func (i *Iter) Next() bool {
	if i.err != nil {
		return false
	}
	var ok bool
	if !i.started {
		i.started = true
		ok = i.it.First()
	} else {
		ok = i.it.Next()
	}
	if !ok {
		i.err = readError(i.table, i.it.Error())
		return false
	}
	i.scanned++
	if i.hook != nil {
		if err := i.hook(); err != nil {
			i.err = err
			return false
		}
	}
	if i.scanned&4095 == 0 {
		if err := i.ctx.Err(); err != nil {
			i.err = err
			return false
		}
	}
	if err := decodeRowMask(i.it.Value(), i.row, i.need); err != nil {
		i.err = err
		return false
	}
	return true
}

// Row is the current row: every column of the schema scanned, system
// columns first. It is reused by Next.
func (i *Iter) Row() schema.Row { return i.row }

// Err is the error that ended the iteration, if any.
func (i *Iter) Err() error { return i.err }

// Scanned counts the rows read.
func (i *Iter) Scanned() int64 { return i.scanned }

// Close releases the iterator.
func (i *Iter) Close() error { return i.it.Close() }

// CountKeys iterates t's row keys in r without decoding the rows: the
// ceiling of any scan, for benchmarks.
func (s *Store) CountKeys(ctx context.Context, t *schema.Table, r TimeRange) (int64, error) {
	it, err := s.Scan(ctx, t, r)
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	var n int64
	for ok := it.it.First(); ok; ok = it.it.Next() {
		_ = it.it.Value()
		n++
	}
	return n, readError(t.FullName(), it.it.Error())
}

// LastTime returns the time column value of t's last row before `before`
// (µs), if any: one seek, not a scan.
func (s *Store) LastTime(ctx context.Context, t *schema.Table, before int64) (int64, bool, error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: tablePrefix(t.ID), UpperBound: rowTimeBound(t.ID, before)})
	if err != nil {
		return 0, false, err
	}
	defer func() { _ = it.Close() }()
	if !it.Last() {
		return 0, false, readError(t.FullName(), it.Error())
	}
	k, err := decodeRowKey(it.Key())
	if err != nil {
		return 0, false, err
	}
	return k.time, true, nil
}
