package tables

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// Small blocks: a seal pass ends with a partial block, and a table fed a
// few thousand rows a minute seals only partial ones (15,000 rows at 1,000
// rows/s and --seal-after 60s, 4,096 for a slow table held until its rows
// are ten times --seal-after old). Queries pay per block — a group by maps
// each block's dictionary to its groups: over 3 M rows it took 55 ms with
// full blocks, 98 ms with blocks of 15,000 rows and 258 ms with blocks of
// 4,096 (BenchmarkBlockSize) — so MergeBlocks merges runs of small blocks
// into full ones.

// mergeBelow: a block with fewer rows is small, and merged with the small
// blocks next to it (in key order) while they fit in one block, once they
// hold mergeBelow rows together: a merged block is never small, so a row
// is merged at most once. (Tests lower it.)
var mergeBelow = BlockRows / 2

// mergeWindow is how many of a table's blocks, the last by their last row
// time, MergeBlocks looks at: small blocks come from recent passes, and
// reading every header of a table of years each pass would cost more
// than it finds.
const mergeWindow = 256

// MergeResult says what a MergeBlocks did.
type MergeResult struct {
	Blocks   int // blocks written
	Replaced int // small blocks they replaced
	Rows     int // rows they hold
}

// MergeBlocks merges runs of t's small blocks, next to each other in key
// order among its last mergeWindow blocks, into blocks of at most
// BlockRows rows, in key order. It reads nothing when no block of t
// changed since it last found nothing to merge. Each merged block is written and the blocks
// it replaces deleted in one batch, so a crash leaves one or the other;
// reads take their snapshots before or after. Rows are not touched: ingest
// goes on meanwhile, and the table's lock is not taken. A change to the
// table's blocks while it reads (an expiry, a drop, a reset) ends it, for
// the next call.
func (s *Store) MergeBlocks(ctx context.Context, t *schema.Table) (MergeResult, error) {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	var res MergeResult
	s.mu.RLock()
	cur := s.byID[t.ID]
	s.mu.RUnlock()
	if cur == nil {
		return res, nil
	}
	mu := s.applyMutex(t.ID)
	mu.maint.Lock()
	gen, looked := mu.gen, mu.looked
	mu.maint.Unlock()
	if looked == gen+1 {
		return res, nil // no block changed since the last look
	}
	hs, err := s.lastHeaders(cur, mergeWindow)
	if err != nil {
		return res, err
	}
	for _, run := range mergeRuns(hs) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rows, next, err := s.mergeRun(cur, mu, gen, run)
		if errors.Is(err, errSealStale) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		gen = next // this commit's own change
		res.Blocks++
		res.Replaced += len(run)
		res.Rows += rows
		s.mergedBlocks.Add(int64(len(run)))
	}
	mu.maint.Lock()
	if mu.gen == gen {
		mu.looked = gen + 1
	}
	mu.maint.Unlock()
	return res, nil
}

// MergeAll is MergeBlocks for every table; a table that fails does not
// keep the others from merging (the errors are joined).
func (s *Store) MergeAll(ctx context.Context) (MergeResult, error) {
	var total MergeResult
	var errs []error
	for _, t := range s.Tables() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		r, err := s.MergeBlocks(ctx, t)
		total.Blocks += r.Blocks
		total.Replaced += r.Replaced
		total.Rows += r.Rows
		if err != nil {
			errs = append(errs, fmt.Errorf("merging the blocks of %s: %w", t.FullName(), err))
		}
	}
	return total, errors.Join(errs...)
}

// lastHeaders returns the headers of t's last n blocks by last row time,
// in key order of their first rows.
func (s *Store) lastHeaders(t *schema.Table, n int) ([]*BlockHeader, error) {
	lo, hi := tableRange(prefixHeader, t.ID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	var hs []*BlockHeader
	for ok := it.Last(); ok && len(hs) < n; ok = it.Prev() {
		h, err := decodeHeader(it.Value())
		if err != nil {
			return nil, fmt.Errorf("%s: block header %x: %w", t.FullName(), it.Key(), err)
		}
		hs = append(hs, h)
	}
	if err := readError(t.FullName(), it.Error()); err != nil {
		return nil, err
	}
	slices.SortFunc(hs, func(a, b *BlockHeader) int { return compareRowKeys(a.first, b.first) })
	return hs, nil
}

// mergeRuns picks from hs (in key order) the runs of at least two
// consecutive small blocks whose rows fit in one block and make at least
// mergeBelow rows; smaller ones wait for more blocks.
func mergeRuns(hs []*BlockHeader) [][]*BlockHeader {
	var runs [][]*BlockHeader
	var run []*BlockHeader
	rows := 0
	flush := func() {
		if len(run) >= 2 && rows >= mergeBelow {
			runs = append(runs, run)
		}
		run, rows = nil, 0
	}
	for _, h := range hs {
		if h.Rows >= mergeBelow {
			flush()
			continue
		}
		if rows+h.Rows > BlockRows {
			flush()
		}
		run = append(run, h)
		rows += h.Rows
	}
	flush()
	return runs
}

// mergedRow is one row of a run: its key, and where it is.
type mergedRow struct {
	k      rowKey
	blk, r int
}

// mergeRun writes the rows of run's blocks as one block and deletes them,
// unless the table's blocks changed since gen (errSealStale). It returns
// the rows merged and the table's generation after the merge.
func (s *Store) mergeRun(t *schema.Table, mu *tableLock, gen uint64, run []*BlockHeader) (int, uint64, error) {
	ncols := len(t.Columns)
	vecs := make([][]*Vector, len(run))
	var rows []mergedRow
	for bi, h := range run {
		blk, err := readBlock(s.db, t, h)
		if err != nil {
			if s.blocksChanged(mu, gen) {
				return 0, 0, errSealStale // an expiry or a drop deleted it
			}
			return 0, 0, err
		}
		vecs[bi] = make([]*Vector, ncols)
		for i := range min(ncols, len(h.Cols)) {
			if vecs[bi][i], err = blk.Column(i); err != nil {
				return 0, 0, err
			}
		}
		for r := range h.Rows {
			k, err := blk.rowKey(r)
			if err != nil {
				return 0, 0, err
			}
			rows = append(rows, mergedRow{k: k, blk: bi, r: r})
		}
	}
	slices.SortFunc(rows, func(a, b mergedRow) int { return compareRowKeys(a.k, b.k) })
	nb := newBlockBuilder(ncols)
	row := make(schema.Row, ncols)
	var key []byte
	for i, m := range rows {
		if i > 0 && compareRowKeys(rows[i-1].k, m.k) == 0 {
			return 0, 0, fmt.Errorf("%s: block %d holds a row that another block holds too (time %d, partition %d, offset %d)", t.FullName(), run[m.blk].ID, m.k.time, m.k.partition, m.k.offset)
		}
		for c := range row {
			row[c] = schema.Null
			if v := vecs[m.blk][c]; v != nil {
				row[c] = v.Value(m.r)
			}
		}
		key = appendRowKey(key[:0], t.ID, m.k.time, m.k.src, m.k.partition, m.k.offset, m.k.elem)
		nb.add(m.k, key, row)
	}
	s.mu.Lock()
	s.nextBlock++
	id := s.nextBlock
	s.mu.Unlock()
	nh, body := nb.finish(id)
	batch := s.db.NewBatch()
	defer func() { _ = batch.Close() }()
	_ = batch.Set(headerKey(t.ID, nh.MaxTime, id), nh.encode(), nil)
	_ = batch.Set(bodyKey(t.ID, id), body, nil)
	for _, h := range run {
		_ = batch.Delete(headerKey(t.ID, h.MaxTime, h.ID), nil)
		_ = batch.Delete(bodyKey(t.ID, h.ID), nil)
	}
	mu.maint.Lock()
	defer mu.maint.Unlock()
	s.mu.RLock()
	_, live := s.byID[t.ID]
	s.mu.RUnlock()
	if !live || mu.gen != gen {
		return 0, 0, errSealStale
	}
	if err := s.space.Check(); err != nil {
		return 0, 0, fmt.Errorf("merging blocks of %s: %w", t.FullName(), err)
	}
	// Not synced, as a seal's block: a crash that loses it keeps the
	// small blocks, which hold the same rows.
	if err := batch.Commit(pebble.NoSync); err != nil {
		return 0, 0, fmt.Errorf("merging %d blocks of %s: %w", len(run), t.FullName(), err)
	}
	mu.gen++
	return nb.len(), mu.gen, nil
}

// blocksChanged reports whether t's blocks changed since gen.
func (s *Store) blocksChanged(mu *tableLock, gen uint64) bool {
	mu.maint.Lock()
	defer mu.maint.Unlock()
	return mu.gen != gen
}
