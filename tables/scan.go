package tables

import (
	"context"
	"fmt"
	"slices"

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
	t       *schema.Table
	tr      TimeRange
	table   string
	it      *pebble.Iterator
	row     schema.Row
	err     error
	scanned int64
	started bool
	need    []bool // columns to decode; nil: all
	hook    func(n int) error

	// A scan of rows and sealed blocks (View.Scan) merges them in key
	// order: view is nil for a scan of rows only.
	view      *View
	ownView   bool           // Close closes view
	blocks    []*BlockHeader // not yet opened, by first row
	open      []*blockCursor
	from      int // the source of the current row: -1 rows, else open[from]
	rowsValid bool
	fk        []byte
}

// WithScanHook returns a context under which every scan calls hook with
// the rows it read since the last call — after each row of a row scan, or
// after each block of a vectorised one — on the scan's goroutine; an error
// from hook ends the scan with that error (Iter.Err). The query actors
// count the rows their scans read with it, for `get queries`.
func WithScanHook(ctx context.Context, hook func(n int) error) context.Context {
	return context.WithValue(ctx, scanHookKey{}, hook)
}

type scanHookKey struct{}

// ScanHook is the hook of WithScanHook under ctx, or nil.
func ScanHook(ctx context.Context) func(n int) error {
	h, _ := ctx.Value(scanHookKey{}).(func(n int) error)
	return h
}

// Scan returns an iterator over t's rows in r, sealed or not, in key
// order, over a view it takes (and Close releases).
func (s *Store) Scan(ctx context.Context, t *schema.Table, r TimeRange) (*Iter, error) {
	v := s.View()
	it, err := v.Scan(ctx, t, r)
	if err != nil {
		_ = v.Close()
		return nil, err
	}
	it.ownView = true
	return it, nil
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

// SkipBlocks leaves out the sealed blocks skip accepts (by their header),
// before the first Next.
func (i *Iter) SkipBlocks(skip func(*BlockHeader) bool) {
	i.blocks = slices.DeleteFunc(i.blocks, skip)
}

// Only limits decoding to the columns whose need entry is true; the others
// read as NULL (strings are then not copied). Call it before Next.
func (i *Iter) Only(need []bool) { i.need = need }

// Next moves to the next row; false at the end or on error (see Err).
func (i *Iter) Next() bool {
	if i.err != nil {
		return false
	}
	if i.view != nil {
		ok, err := i.nextMerged()
		if err != nil || !ok {
			i.err = err
			return false
		}
		return i.counted()
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
	if !i.counted() {
		return false
	}
	if err := decodeRowMask(i.it.Value(), i.row, i.need); err != nil {
		i.err = err
		return false
	}
	return true
}

// counted counts a row read, calls the scan hook and looks at the
// context every 4096 rows.
func (i *Iter) counted() bool {
	i.scanned++
	if i.hook != nil {
		if err := i.hook(1); err != nil {
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
	return true
}

// Row is the current row: every column of the schema scanned, system
// columns first. It is reused by Next.
func (i *Iter) Row() schema.Row { return i.row }

// Err is the error that ended the iteration, if any.
func (i *Iter) Err() error { return i.err }

// Scanned counts the rows read.
func (i *Iter) Scanned() int64 { return i.scanned }

// Close releases the iterator (and the view Store.Scan took).
func (i *Iter) Close() error {
	err := i.it.Close()
	if i.ownView {
		if verr := i.view.Close(); err == nil {
			err = verr
		}
	}
	return err
}

// CountKeys iterates t's row keys in r without decoding the rows: the
// ceiling of any scan, for benchmarks.
func (s *Store) CountKeys(ctx context.Context, t *schema.Table, r TimeRange) (int64, error) {
	lo, hi := ScanBounds(t, r)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, fmt.Errorf("scanning %s: %w", t.FullName(), err)
	}
	defer func() { _ = it.Close() }()
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		_ = it.Value()
		n++
	}
	return n, readError(t.FullName(), it.Error())
}

// LastTime returns the time column value of t's last row before `before`
// (µs), if any: one seek among the rows, and the headers of the blocks
// that may hold a later one.
func (s *Store) LastTime(ctx context.Context, t *schema.Table, before int64) (int64, bool, error) {
	v := s.View()
	defer func() { _ = v.Close() }()
	it, err := v.snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: tablePrefix(t.ID), UpperBound: rowTimeBound(t.ID, before)})
	if err != nil {
		return 0, false, err
	}
	var last int64
	found := it.Last()
	if found {
		k, err := decodeRowKey(it.Key())
		if err != nil {
			_ = it.Close()
			return 0, false, err
		}
		last = k.time
	} else if err := readError(t.FullName(), it.Error()); err != nil {
		_ = it.Close()
		return 0, false, err
	}
	_ = it.Close()
	r := TimeRange{To: before, HasTo: true}
	if found {
		r.From, r.HasFrom = last+1, true
	}
	hs, err := v.Blocks(ctx, t, r)
	if err != nil {
		return 0, false, err
	}
	for _, h := range hs {
		if h.MaxTime < before {
			last, found = max(last, h.MaxTime), true
			continue
		}
		b, err := v.Block(t, h)
		if err != nil {
			return 0, false, err
		}
		times, err := b.Times()
		if err != nil {
			return 0, false, err
		}
		for _, tm := range times {
			if tm < before && (!found || tm > last) {
				last, found = tm, true
			}
		}
	}
	return last, found, nil
}
