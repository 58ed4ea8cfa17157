package tables

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// blockBuilder gathers rows, in key order, into one block.
type blockBuilder struct {
	keys   [keyCols][]int64
	cols   []colBuilder
	keyBuf []byte // the rows' keys, rowKeyLen bytes each: deleted when the block commits
	n      int
	// runs are the [first, last] indices of rows between which the
	// pass read no other row: one range delete can remove each.
	runs    [][2]int
	runOpen bool
	minSeq  uint64
	maxSeq  uint64
	// finish's buffers, kept between blocks: the encoded columns, where
	// each ends, the body (valid until the next finish) and scratch.
	colBuf  []byte
	colEnds []int
	body    []byte
	u       []uint64
	// tail is the key the pass read right after the block's last row
	// (nil: none): nothing lay between them, so the last run's range
	// delete may end there, abutting the next block's.
	tail []byte
}

func newBlockBuilder(ncols int) *blockBuilder {
	return &blockBuilder{cols: make([]colBuilder, ncols)}
}

// resize makes b build blocks of ncols table columns.
func (b *blockBuilder) resize(ncols int) {
	if ncols > cap(b.cols) {
		b.cols = append(b.cols[:cap(b.cols)], make([]colBuilder, ncols-cap(b.cols))...)
	}
	b.cols = b.cols[:ncols]
}

// reset empties b for the next block, keeping its memory.
func (b *blockBuilder) reset() {
	for i := range b.keys {
		b.keys[i] = b.keys[i][:0]
	}
	for i := range b.cols {
		b.cols[i].reset()
	}
	b.keyBuf, b.runs, b.runOpen, b.n, b.minSeq, b.maxSeq = b.keyBuf[:0], b.runs[:0], false, 0, 0, 0
	b.tail = nil
}

// breakRun ends the current run: a row the pass read lies between it
// and the next row added.
func (b *blockBuilder) breakRun() { b.runOpen = false }

func (b *blockBuilder) len() int { return b.n }

// rowKey is the stored key of row i.
func (b *blockBuilder) rowKey(i int) []byte { return b.keyBuf[i*rowKeyLen : (i+1)*rowKeyLen] }

// add appends a row with its stored key (rowKeyLen bytes; both copied).
func (b *blockBuilder) add(k rowKey, raw []byte, row schema.Row) {
	for i := range b.cols {
		v := schema.Null
		if i < len(row) {
			v = row[i]
		}
		b.cols[i].addValue(v)
	}
	b.added(k, raw)
}

// addStored appends a row as stored (the row codec) with its key.
func (b *blockBuilder) addStored(k rowKey, raw, val []byte) error {
	if err := addRow(b.cols, val); err != nil {
		// The columns may hold part of the row: the block is not
		// finished, the seal fails.
		return err
	}
	b.added(k, raw)
	return nil
}

// added records the key of the row whose values were just added.
func (b *blockBuilder) added(k rowKey, raw []byte) {
	b.keys[0] = append(b.keys[0], k.time)
	b.keys[1] = append(b.keys[1], int64(k.src))
	b.keys[2] = append(b.keys[2], int64(k.partition))
	b.keys[3] = append(b.keys[3], k.offset)
	b.keys[4] = append(b.keys[4], int64(k.elem))
	seq := uint64(b.cols[schema.NumSystemColumns-1].value(b.n).I)
	if b.n == 0 || seq < b.minSeq {
		b.minSeq = seq
	}
	if b.n == 0 || seq > b.maxSeq {
		b.maxSeq = seq
	}
	if b.runOpen {
		b.runs[len(b.runs)-1][1] = b.n
	} else {
		b.runs = append(b.runs, [2]int{b.n, b.n})
		b.runOpen = true
	}
	b.keyBuf = append(b.keyBuf, raw...)
	b.n++
}

// finish encodes the block: its header and its body (b's own buffer, valid
// until the next finish).
func (b *blockBuilder) finish(id uint64) (*BlockHeader, []byte) {
	n := b.n
	h := &BlockHeader{ID: id, Rows: n, MinSeq: b.minSeq, MaxSeq: b.maxSeq, Cols: make([]ColumnStats, len(b.cols))}
	h.MinTime, h.MaxTime = b.keys[0][0], b.keys[0][0]
	for _, t := range b.keys[0] {
		h.MinTime, h.MaxTime = min(h.MinTime, t), max(h.MaxTime, t)
	}
	h.first = rowKey{time: b.keys[0][0], src: uint32(b.keys[1][0]), partition: int32(b.keys[2][0]), offset: b.keys[3][0], elem: int32(b.keys[4][0])}
	// The columns go one after another into colBuf, then into body as
	// encodeBody lays them out; both are kept for the next block.
	b.colBuf, b.colEnds = b.colBuf[:0], b.colEnds[:0]
	for _, k := range b.keys {
		b.colBuf = appendIntsTo(b.colBuf, k, &b.u)
		b.colEnds = append(b.colEnds, len(b.colBuf))
	}
	for i := range b.cols {
		h.Cols[i] = b.cols[i].stats()
		b.colBuf = b.cols[i].encode(b.colBuf)
		b.colEnds = append(b.colEnds, len(b.colBuf))
	}
	body := binary.AppendUvarint(b.body[:0], uint64(len(b.colEnds)))
	start := 0
	for _, end := range b.colEnds {
		body = binary.AppendUvarint(body, uint64(end-start))
		start = end
	}
	b.body = append(body, b.colBuf...)
	return h, b.body
}

// SealResult says what a Seal did.
type SealResult struct {
	Blocks, Rows int
}

// SealCounters are the store's seal totals since it opened.
type SealCounters struct {
	Rows, Blocks, Passes int64
	// RangeDeleted are the sealed rows removed by range deletes (the
	// others by point deletes, each a tombstone compactions carry).
	RangeDeleted int64
	// Read are the rows the passes read, sealed or (too new) not: over
	// Rows, how often sealing reads a row it seals.
	Read int64
	// BlockBytes are the sstable block bytes (compressed; data, index
	// and filter blocks) the passes' iterators loaded, and CachedBytes
	// those of them found in the block cache: the others were read from
	// the files and decompressed.
	BlockBytes, CachedBytes int64
	// Points are the keys the passes' iterators stepped over inside
	// Pebble, shadowed and deleted ones too (over Read: the dead keys a
	// pass had to skip), and Iters the iterators they opened (each
	// seeks every file that overlaps its range).
	Points, Iters int64
	Time          time.Duration
	// Merged are the small blocks MergeBlocks replaced with full ones.
	Merged int64
}

// Sealed returns the seal totals.
func (s *Store) Sealed() SealCounters {
	return SealCounters{Rows: s.sealRows.Load(), Blocks: s.sealBlocks.Load(), Passes: s.sealPasses.Load(), RangeDeleted: s.sealRangeRows.Load(), Read: s.sealRead.Load(), BlockBytes: s.sealLoaded.Load(), CachedBytes: s.sealCached.Load(), Points: s.sealPoints.Load(), Iters: s.sealIters.Load(), Time: time.Duration(s.sealNanos.Load()), Merged: s.mergedBlocks.Load()}
}

// errSealStale ends a seal pass whose reading an expiry or drop outdated.
var errSealStale = errors.New("tables: the table changed during the seal")

// Seal moves t's rows committed before cutoff (µs, by insert_timestamp)
// into sealed blocks of at most BlockRows rows. Each block is written and
// the rows it holds deleted in one batch, so a crash leaves either
// the rows or the block. Ingest goes on meanwhile: Seal reads with a
// fresh iterator per block and holds the table's lock only to commit each
// block.
//
// It takes no snapshot. A snapshot open while a block's range delete
// reaches a flush or compaction keeps the rows the delete covers (they are
// in the snapshot's view): a flush during a pass wrote them to disk,
// and a later compaction had to read them again to drop them.
// What the snapshot gave is kept otherwise: each iterator is a consistent
// view; the commits after snapSeq, which a later iterator may see, are
// too new to seal (their commit time is after the cutoff) and are foreign
// spans at commit, where no range delete crosses them; and an expiry or
// drop between blocks changes the table's generation, which ends the
// pass.
func (s *Store) Seal(ctx context.Context, t *schema.Table, cutoff int64) (SealResult, error) {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	var res SealResult
	mu := s.applyMutex(t.ID)
	mu.Lock()
	s.mu.RLock()
	cur := s.byID[t.ID]
	s.mu.RUnlock()
	if cur == nil {
		mu.Unlock()
		return res, nil
	}
	mu.maint.Lock()
	gen := mu.gen
	mu.maint.Unlock()
	s.mu.RLock()
	var snapSeq uint64
	if st := s.stats[t.ID]; st != nil {
		snapSeq = st.seq
	}
	s.mu.RUnlock()
	// The rows to read: every row on the first pass since the store
	// opened, then only the key ranges of the commits old enough. The
	// first pass keeps a span of the rows committed before the store
	// opened that it finds too new, so that a later pass reads them.
	ranges := [][2][]byte{{tablePrefix(t.ID), tableEnd(t.ID)}}
	var pre *preOpen
	if !mu.sawAll {
		pre = &preOpen{before: s.openedUs}
	} else {
		ranges = commitRanges(mu.pending, cutoff)
		if len(ranges) == 0 {
			mu.Unlock()
			return res, nil
		}
	}
	mu.Unlock()
	sealed := false
	defer func() {
		if sealed {
			// The commits old enough are sealed: forget them (not those
			// after the snapshot).
			mu.Lock()
			mu.pending = slices.DeleteFunc(mu.pending, func(c commitSpan) bool { return c.at < cutoff && c.seq <= snapSeq })
			if pre != nil && pre.span.rows > 0 {
				mu.pending = appendSpan(mu.pending, pre.span)
			}
			mu.sawAll = true
			mu.Unlock()
		}
	}()
	// One builder for every pass, kept (sealMu guards it): a block's
	// columns are megabytes, and allocating them each pass made the heap
	// swing.
	if s.sealB == nil {
		s.sealB = newBlockBuilder(0)
	}
	b := s.sealB
	b.resize(len(cur.Columns))
	b.reset()
	commit := func() error {
		if b.len() == 0 {
			return nil
		}
		if err := s.commitBlock(cur, mu, &gen, snapCut{snapSeq, cutoff}, b); err != nil {
			return err
		}
		res.Blocks++
		res.Rows += b.len()
		s.sealBlocks.Add(1)
		s.sealRows.Add(int64(b.len()))
		b.reset()
		return nil
	}
	sr := &sealRun{ctx: ctx, db: s.db, cutoff: cutoff, t: t, b: b, commit: commit, pre: pre, share: s.sealShare, busy: time.Now()}
	defer func() {
		s.sealRead.Add(int64(sr.n))
		s.sealLoaded.Add(int64(sr.blocks.BlockBytes))
		s.sealCached.Add(int64(sr.blocks.BlockBytesInCache))
		s.sealPoints.Add(int64(sr.blocks.PointCount))
		s.sealIters.Add(int64(sr.iters))
	}()
	for _, r := range ranges {
		if err := sr.seal(r); err != nil {
			return res, err
		}
	}
	if err := commit(); err != nil {
		return res, err
	}
	sealed = true
	return res, nil
}

// preOpen gathers, on a table's first seal pass since the store opened,
// the span of the rows committed before it opened (before) that are too
// new for the pass: no commit span of this run holds them. Its seq is 0:
// they are older than any snapshot.
type preOpen struct {
	before int64
	span   commitSpan
}

func (p *preOpen) add(key []byte, at int64) {
	if p.span.rows == 0 {
		copy(p.span.lo[:], key)
		copy(p.span.hi[:], key)
	} else if bytes.Compare(key, p.span.lo[:]) < 0 {
		copy(p.span.lo[:], key)
	} else if bytes.Compare(key, p.span.hi[:]) > 0 {
		copy(p.span.hi[:], key)
	}
	p.span.at = max(p.span.at, at)
	p.span.rows++
}

// sealRun is one seal pass's reading: where from, what it seals and
// into what.
type sealRun struct {
	ctx    context.Context
	db     *pebble.DB
	cutoff int64
	t      *schema.Table
	b      *blockBuilder
	commit func() error                 // commits (and empties) b
	pre    *preOpen                     // nil but on a first pass: the rows from before the store opened that are too new
	n      int                          // rows read
	share  func() float64               // WithSealShareFunc's; nil: no pauses
	busy   time.Time                    // when the pass last started working
	blocks pebble.InternalIteratorStats // summed over its iterators
	iters  int                          // iterators opened
}

// seal adds the rows of one key range committed before the cutoff to the
// builder, committing it whenever it is full. After each block it closes
// its iterator, which pins the memtables and sstables it reads, and pauses
// when the pass is to use only a share of a core.
func (sr *sealRun) seal(r [2][]byte) error {
	lo := r[0]
	for lo != nil {
		next, err := sr.sealFrom(lo, r[1])
		if err != nil {
			return err
		}
		if next != nil {
			if err := sr.pause(); err != nil {
				return err
			}
		}
		lo = next
	}
	return nil
}

// sealFrom seals the rows in [lo, hi) until the builder fills: it returns
// the key to go on from after that block (nil: the range is done).
func (sr *sealRun) sealFrom(lo, hi []byte) ([]byte, error) {
	it, err := sr.db.NewIterWithContext(sr.ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer func() {
		st := it.Stats().InternalStats
		sr.blocks.BlockBytes += st.BlockBytes
		sr.blocks.BlockBytesInCache += st.BlockBytesInCache
		sr.blocks.PointCount += st.PointCount
		sr.iters++
		_ = it.Close()
	}()
	// Rows between the ranges were not read: they belong to pending
	// commits too new for this pass, whose spans break runs at commit.
	b := sr.b
	for it.First(); it.Valid(); it.Next() {
		if sr.n++; sr.n%4096 == 0 {
			if err := sr.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if at, ok := commitTime(it.Value()); !ok || at >= sr.cutoff {
			b.breakRun()
			if sr.pre != nil && ok && at < sr.pre.before && len(it.Key()) == rowKeyLen {
				sr.pre.add(it.Key(), at)
			}
			continue
		}
		k, err := decodeRowKey(it.Key())
		if err == nil {
			err = b.addStored(k, it.Key(), it.Value())
		}
		if err != nil {
			return nil, fmt.Errorf("sealing %s: %w", sr.t.FullName(), err)
		}
		if b.len() == BlockRows {
			// The key after the block's last row, if the range has one:
			// the block's last range delete may end at it, so that the
			// range deletes of successive blocks abut, and Pebble, which
			// merges abutting ones, sees sstables wholly deleted and
			// drops them without reading them. The next block starts at
			// it (the iterator's lower bound includes it).
			var next []byte
			if it.Next() {
				next = bytes.Clone(it.Key())
				b.tail = append(b.tail[:0], next...)
			}
			if err := readError(sr.t.FullName(), it.Error()); err != nil {
				return nil, err
			}
			if afterSealPeek != nil {
				afterSealPeek()
			}
			if err := sr.commit(); err != nil {
				return nil, err
			}
			return next, nil
		}
	}
	return nil, readError(sr.t.FullName(), it.Error())
}

// pause waits, when the pass may use only a share of a core, for as long
// as its work since the last pause times 1/share - 1. It asks the share
// again every pauseStep while it waits, so that a pause set while ingest
// was behind — a twentieth of a core: 19 times the block's work, which
// counts the time it waited for the cores and for the table's lock, tens
// of seconds when both were busy — ends soon after ingest catches up
// rather than keeping the rows waiting.
func (sr *sealRun) pause() error {
	if sr.share == nil {
		return nil
	}
	work, start := time.Since(sr.busy), time.Now()
	for {
		share := min(max(sr.share(), 0.05), 1)
		wait := time.Duration(float64(work)*(1/share-1)) - time.Since(start)
		if wait <= 0 {
			break
		}
		t := time.NewTimer(min(wait, pauseStep))
		select {
		case <-sr.ctx.Done():
			t.Stop()
			return sr.ctx.Err()
		case <-t.C:
		}
	}
	sr.busy = time.Now()
	return nil
}

// pauseStep is how long a seal pass's pause waits at most before it asks
// the share again.
const pauseStep = 100 * time.Millisecond

// commitTime reads a row's insert_timestamp (its second value, after
// row_id) without decoding the rest; false when it is not there.
func commitTime(v []byte) (int64, bool) {
	if len(v) == 0 || v[0] != tagInt {
		return 0, false
	}
	_, n := varint(v[1:])
	if n <= 0 || len(v) < 2+n || v[1+n] != tagTS {
		return 0, false
	}
	at, m := varint(v[2+n:])
	return at, m > 0
}

// snapCut is what a seal pass read: the snapshot's commit sequence number
// and the commit-time cutoff of the rows it seals.
type snapCut struct {
	seq    uint64
	cutoff int64
}

// commitBlock writes b's block and deletes its rows in one batch,
// unless the table was dropped or an expiry changed it since the snapshot.
func (s *Store) commitBlock(t *schema.Table, mu *tableLock, gen *uint64, sc snapCut, b *blockBuilder) error {
	s.mu.Lock()
	s.nextBlock++
	id := s.nextBlock
	s.mu.Unlock()
	h, body := b.finish(id)
	// How the rows go is planned under the table's lock (the spans of the
	// commits since the snapshot); a block with a range delete commits
	// under it, so that no commit can write into the range before the
	// delete. One without commits under maint alone: Apply goes on
	// meanwhile.
	mu.Lock()
	foreign := foreignSpans(mu.pending, sc)
	plan := planDeletes(b, foreign, minRangeRun)
	anyRange := slices.ContainsFunc(plan, func(d deleteRun) bool { return d.ranged })
	mu.maint.Lock()
	defer mu.maint.Unlock()
	if anyRange {
		defer mu.Unlock()
	} else {
		mu.Unlock()
	}
	s.mu.RLock()
	_, live := s.byID[t.ID]
	s.mu.RUnlock()
	if !live || mu.gen != *gen {
		return errSealStale
	}
	if err := s.space.Check(); err != nil {
		return fmt.Errorf("sealing %s: %w", t.FullName(), err)
	}
	batch := s.db.NewBatch()
	defer func() { _ = batch.Close() }()
	_ = batch.Set(headerKey(t.ID, h.MaxTime, id), h.encode(), nil)
	_ = batch.Set(bodyKey(t.ID, id), body, nil)
	var ranged int
	for _, d := range plan {
		if d.ranged {
			_ = batch.DeleteRange(b.rowKey(d.from), rangeEnd(b, d, foreign), nil)
			ranged += d.to - d.from + 1
			continue
		}
		for j := d.from; j <= d.to; j++ {
			_ = batch.Delete(b.rowKey(j), nil)
		}
	}
	// Not synced: the rows it replaces are durable already, and a crash
	// that loses this batch from the write-ahead log loses every later one
	// with it, leaving the rows as they were. The next synced commit (an
	// Apply's) makes it durable; the table's lock is held the shorter.
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("sealing %d rows of %s: %w", b.len(), t.FullName(), err)
	}
	s.sealRangeRows.Add(int64(ranged))
	mu.gen++
	*gen = mu.gen
	return nil
}

// afterSealPeek, when set (tests), runs between reading the key after a
// full block and committing the block: where a commit can land between
// the two.
var afterSealPeek func()

// minRangeRun is the shortest run of rows a seal deletes with one range
// delete (tests lower it): many short range tombstones slow every read of
// the memtable that holds them.
var minRangeRun = 1024

// foreignSpans are the key intervals where rows a seal pass does not seal
// may lie: the spans of the commits after its snapshot and of those too
// new for it. In key order, overlapping ones merged; each [lo, hi] holds
// both ends.
func foreignSpans(pending []commitSpan, sc snapCut) [][2][]byte {
	var out [][2][]byte
	for i := range pending {
		if c := &pending[i]; c.seq > sc.seq || c.at >= sc.cutoff {
			out = append(out, [2][]byte{c.lo[:], c.hi[:]})
		}
	}
	return mergeIntervals(out)
}

// mergeIntervals sorts closed key intervals and merges the overlapping.
func mergeIntervals(iv [][2][]byte) [][2][]byte {
	slices.SortFunc(iv, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	var out [][2][]byte
	for _, x := range iv {
		if n := len(out); n > 0 && bytes.Compare(x[0], out[n-1][1]) <= 0 {
			if bytes.Compare(x[1], out[n-1][1]) > 0 {
				out[n-1][1] = x[1]
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// deleteRun is a stretch of a block's rows [from, to] (indices) deleted
// together: with one range delete, or each with its own point delete.
type deleteRun struct {
	from, to int
	ranged   bool
}

// planDeletes says how b's rows go. A range delete may cover no row but
// the block's: each run of b (rows between which the snapshot held no
// other row) is cut wherever a foreign interval lies in it; the rows
// inside one are deleted one by one, and each stretch between them with a
// range delete when it holds at least minRun rows.
func planDeletes(b *blockBuilder, foreign [][2][]byte, minRun int) []deleteRun {
	var plan []deleteRun
	stretch := func(from, to int) {
		if to < from {
			return
		}
		plan = append(plan, deleteRun{from: from, to: to, ranged: to-from+1 >= minRun})
	}
	for _, r := range b.runs {
		first, last := b.rowKey(r[0]), b.rowKey(r[1])
		// The first interval that ends at or after the run's first row.
		f := sort.Search(len(foreign), func(i int) bool { return bytes.Compare(foreign[i][1], first) >= 0 })
		start := r[0]
		for ; f < len(foreign) && bytes.Compare(foreign[f][0], last) <= 0; f++ {
			lo, hi := foreign[f][0], foreign[f][1]
			j := start + sort.Search(r[1]+1-start, func(i int) bool { return bytes.Compare(b.rowKey(start+i), lo) >= 0 })
			m := j + sort.Search(r[1]+1-j, func(i int) bool { return bytes.Compare(b.rowKey(j+i), hi) > 0 })
			stretch(start, j-1)
			if m > j {
				plan = append(plan, deleteRun{from: j, to: m - 1})
			}
			start = m
		}
		stretch(start, r[1])
	}
	return plan
}

// rangeEnd is where the range delete of run d of b ends (exclusive): just
// after its last row, or at b's tail when d ends the block and no foreign
// interval lies between them, where a commit since the pass read may have
// written.
func rangeEnd(b *blockBuilder, d deleteRun, foreign [][2][]byte) []byte {
	last := b.rowKey(d.to)
	if d.to == b.len()-1 && b.tail != nil && bytes.Compare(b.tail, last) > 0 {
		// The first interval that ends after last.
		f := sort.Search(len(foreign), func(i int) bool { return bytes.Compare(foreign[i][1], last) > 0 })
		if f == len(foreign) || bytes.Compare(foreign[f][0], b.tail) >= 0 {
			return bytes.Clone(b.tail)
		}
	}
	return append(bytes.Clone(last), 0)
}

// commitRanges are the key ranges of the rows that the pending commits
// older than cutoff wrote: their spans, merged where they overlap, in
// order, each as [lo, hi) for an iterator's bounds.
func commitRanges(pending []commitSpan, cutoff int64) [][2][]byte {
	var iv [][2][]byte
	for i := range pending {
		if c := &pending[i]; c.at < cutoff {
			iv = append(iv, [2][]byte{c.lo[:], c.hi[:]})
		}
	}
	out := mergeIntervals(iv)
	for i := range out { // copied: pending changes once the lock is let go
		out[i] = [2][]byte{bytes.Clone(out[i][0]), append(bytes.Clone(out[i][1]), 0)}
	}
	return out
}

// SealAll seals every table's rows committed before cutoff; a table that
// changed under its seal is left for the next pass.
func (s *Store) SealAll(ctx context.Context, cutoff int64) (SealResult, error) {
	return s.SealDue(ctx, cutoff, cutoff)
}

// MinSealRows is the fewest rows old enough to seal for which SealDue seals
// a table before they are older than its hold cutoff: a table that
// receives a few rows a second would otherwise seal a tiny block each pass.
var MinSealRows int64 = 4096

// SealDue is SealAll for the tables that are due: those with at least
// MinSealRows rows committed before cutoff, or any committed before
// holdCutoff (<= cutoff), or not yet fully seen since the store opened.
func (s *Store) SealDue(ctx context.Context, cutoff, holdCutoff int64) (SealResult, error) {
	var total SealResult
	start := time.Now()
	defer func() {
		s.sealPasses.Add(1)
		s.sealNanos.Add(int64(time.Since(start)))
	}()
	for _, t := range s.Tables() {
		if !s.sealDue(t.ID, cutoff, holdCutoff) {
			continue
		}
		r, err := s.Seal(ctx, t, cutoff)
		total.Blocks += r.Blocks
		total.Rows += r.Rows
		if errors.Is(err, errSealStale) {
			continue
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Store) sealDue(id uint32, cutoff, holdCutoff int64) bool {
	mu := s.applyMutex(id)
	mu.Lock()
	defer mu.Unlock()
	if !mu.sawAll {
		return true
	}
	var rows int64
	for i := range mu.pending {
		if c := &mu.pending[i]; c.at < cutoff {
			if c.at < holdCutoff {
				return true
			}
			rows += c.rows
		}
	}
	return rows >= MinSealRows
}

// loadBlocks finds the highest block id, for the next one, from the header
// keys (small: iterating the body keys would read every sealed block at
// start-up). An id whose block was deleted may be given again: none of its
// keys is left.
func (s *Store) loadBlocks() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHeader, '/'}, UpperBound: []byte{prefixHeader, '/' + 1}})
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 22 {
			return fmt.Errorf("data dir %s: corrupt block header key %q", s.dir, k)
		}
		s.nextBlock = max(s.nextBlock, binary.BigEndian.Uint64(k[14:]))
	}
	return it.Error()
}

// eachHeader calls fn with each header of t's blocks and its key.
func (s *Store) eachHeader(t *schema.Table, fn func(key []byte, h *BlockHeader) error) error {
	lo, hi := tableRange(prefixHeader, t.ID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for it.First(); it.Valid(); it.Next() {
		h, err := decodeHeader(it.Value())
		if err != nil {
			return fmt.Errorf("%s: block header %x: %w", t.FullName(), it.Key(), err)
		}
		if err := fn(it.Key(), h); err != nil {
			return err
		}
	}
	return readError(t.FullName(), it.Error())
}

// expireBlocks adds to b what an expiry at cutoff does to t's blocks:
// those wholly before it are deleted, those it cuts are rewritten with
// their rows at or after it. It returns the rows removed.
func (s *Store) expireBlocks(b *pebble.Batch, t *schema.Table, cutoff int64) (int64, error) {
	var n int64
	err := s.eachHeader(t, func(key []byte, h *BlockHeader) error {
		if h.MinTime >= cutoff {
			return nil
		}
		_ = b.Delete(key, nil)
		_ = b.Delete(bodyKey(t.ID, h.ID), nil)
		if h.MaxTime < cutoff {
			n += int64(h.Rows)
			return nil
		}
		kept, err := s.rewriteBlock(b, t, h, func(k rowKey) bool { return k.time >= cutoff })
		n += int64(h.Rows - kept)
		return err
	})
	return n, err
}

// deleteBlockRows adds to b the deletion of the rows of t's blocks that
// match accepts: a block with none is left, one with only those deleted,
// any other rewritten without them. It returns the rows deleted.
func (s *Store) deleteBlockRows(b *pebble.Batch, t *schema.Table, match func(rowKey) bool) (int64, error) {
	var n int64
	err := s.eachHeader(t, func(key []byte, h *BlockHeader) error {
		blk, err := readBlock(s.db, t, h)
		if err != nil {
			return err
		}
		hits := 0
		for r := range h.Rows {
			k, err := blk.rowKey(r)
			if err != nil {
				return err
			}
			if match(k) {
				hits++
			}
		}
		if hits == 0 {
			return nil
		}
		_ = b.Delete(key, nil)
		_ = b.Delete(bodyKey(t.ID, h.ID), nil)
		n += int64(hits)
		if hits < h.Rows {
			_, err = s.rewriteBlock(b, t, h, func(k rowKey) bool { return !match(k) })
		}
		return err
	})
	return n, err
}

// rowKey is the key of the block's row r.
func (b *Block) rowKey(r int) (rowKey, error) {
	var k [keyCols]int64
	for i := range k {
		v, err := b.keyColumn(i)
		if err != nil {
			return rowKey{}, err
		}
		k[i] = v.Ints[r]
	}
	return rowKey{time: k[0], src: uint32(k[1]), partition: int32(k[2]), offset: k[3], elem: int32(k[4])}, nil
}

// rewriteBlock adds to b a new block of h's rows that keep accepts and
// returns how many there are (the caller deletes h's keys).
func (s *Store) rewriteBlock(b *pebble.Batch, t *schema.Table, h *BlockHeader, keep func(rowKey) bool) (int, error) {
	blk, err := readBlock(s.db, t, h)
	if err != nil {
		return 0, err
	}
	ncols := len(h.Cols)
	vecs := make([]*Vector, ncols)
	for i := range vecs {
		if vecs[i], err = blk.Column(i); err != nil {
			return 0, err
		}
	}
	keys := make([]*Vector, keyCols)
	for i := range keys {
		if keys[i], err = blk.keyColumn(i); err != nil {
			return 0, err
		}
	}
	nb := newBlockBuilder(ncols)
	row := make(schema.Row, ncols)
	var key []byte
	for r := 0; r < h.Rows; r++ {
		k := rowKey{time: keys[0].Ints[r], src: uint32(keys[1].Ints[r]), partition: int32(keys[2].Ints[r]), offset: keys[3].Ints[r], elem: int32(keys[4].Ints[r])}
		if !keep(k) {
			continue
		}
		for i, v := range vecs {
			row[i] = v.Value(r)
		}
		key = appendRowKey(key[:0], t.ID, k.time, k.src, k.partition, k.offset, k.elem)
		nb.add(k, key, row)
	}
	if nb.len() == 0 {
		return 0, nil
	}
	s.mu.Lock()
	s.nextBlock++
	id := s.nextBlock
	s.mu.Unlock()
	nh, body := nb.finish(id)
	_ = b.Set(headerKey(t.ID, nh.MaxTime, id), nh.encode(), nil)
	_ = b.Set(bodyKey(t.ID, id), body, nil)
	return nb.len(), nil
}

// Compact compacts the whole store (benchmarks measure the bytes a table
// keeps after it).
func (s *Store) Compact(ctx context.Context) error {
	return s.db.Compact(ctx, []byte{0}, []byte{0xff}, true)
}
