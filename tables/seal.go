package tables

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// blockBuilder gathers rows, in key order, into one block.
type blockBuilder struct {
	ncols   int
	keys    [keyCols][]int64
	cols    [][]schema.Value
	rowKeys [][]byte // to delete when the block commits
	// contiguous: no row of the snapshot between the first and the last
	// row was left out, so one range delete removes exactly these rows.
	contiguous bool
	minSeq     uint64
	maxSeq     uint64
}

func newBlockBuilder(ncols int) *blockBuilder {
	b := &blockBuilder{ncols: ncols, cols: make([][]schema.Value, ncols), contiguous: true}
	return b
}

func (b *blockBuilder) len() int { return len(b.rowKeys) }

// add appends a row with its key (both copied).
func (b *blockBuilder) add(k rowKey, raw []byte, row schema.Row) {
	b.keys[0] = append(b.keys[0], k.time)
	b.keys[1] = append(b.keys[1], int64(k.src))
	b.keys[2] = append(b.keys[2], int64(k.partition))
	b.keys[3] = append(b.keys[3], k.offset)
	b.keys[4] = append(b.keys[4], int64(k.elem))
	for i := range b.cols {
		var v schema.Value
		if i < len(row) {
			v = row[i]
		}
		b.cols[i] = append(b.cols[i], v)
	}
	seq := uint64(row[schema.NumSystemColumns-1].I)
	if len(b.rowKeys) == 0 || seq < b.minSeq {
		b.minSeq = seq
	}
	if len(b.rowKeys) == 0 || seq > b.maxSeq {
		b.maxSeq = seq
	}
	b.rowKeys = append(b.rowKeys, append([]byte(nil), raw...))
}

// finish encodes the block: its header and its body.
func (b *blockBuilder) finish(id uint64) (*BlockHeader, []byte) {
	n := len(b.rowKeys)
	h := &BlockHeader{ID: id, Rows: n, MinSeq: b.minSeq, MaxSeq: b.maxSeq, Cols: make([]ColumnStats, b.ncols)}
	h.MinTime, h.MaxTime = b.keys[0][0], b.keys[0][0]
	for _, t := range b.keys[0] {
		h.MinTime, h.MaxTime = min(h.MinTime, t), max(h.MaxTime, t)
	}
	h.first = rowKey{time: b.keys[0][0], src: uint32(b.keys[1][0]), partition: int32(b.keys[2][0]), offset: b.keys[3][0], elem: int32(b.keys[4][0])}
	cols := make([][]byte, 0, keyCols+b.ncols)
	for _, k := range b.keys {
		cols = append(cols, appendInts(nil, k))
	}
	for i, c := range b.cols {
		h.Cols[i] = columnStats(c)
		cols = append(cols, encodeColumn(nil, c))
	}
	return h, encodeBody(cols)
}

// SealResult says what a Seal did.
type SealResult struct {
	Blocks, Rows int
}

// SealCounters are the store's seal totals since it opened.
type SealCounters struct {
	Rows, Blocks, Passes int64
	Time                 time.Duration
}

// Sealed returns the seal totals.
func (s *Store) Sealed() SealCounters {
	return SealCounters{Rows: s.sealRows.Load(), Blocks: s.sealBlocks.Load(), Passes: s.sealPasses.Load(), Time: time.Duration(s.sealNanos.Load())}
}

// errSealStale ends a seal pass whose snapshot an expiry or drop outdated.
var errSealStale = errors.New("tables: the table changed during the seal")

// Seal moves t's rows committed before cutoff (µs, by insert_timestamp)
// into sealed blocks of at most BlockRows rows. Each block is written and
// the rows it holds deleted in one synced batch, so a crash leaves either
// the rows or the block. Ingest goes on meanwhile: Seal reads a snapshot
// and holds the table's lock only to commit each block.
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
	gen := mu.gen
	// The rows to read: every row on the first pass since the store
	// opened, then only the key range of the commits old enough.
	lo, hi := tablePrefix(t.ID), tableEnd(t.ID)
	full, np := !mu.sawAll, len(mu.pending)
	if !full {
		first, last, any := int64(math.MaxInt64), int64(math.MinInt64), false
		for _, c := range mu.pending {
			if c.at < cutoff {
				first, last, any = min(first, c.minTime), max(last, c.maxTime), true
			}
		}
		if !any {
			mu.Unlock()
			return res, nil
		}
		lo, hi = rowTimeBound(t.ID, first), rowTimeBound(t.ID, last+1)
		if last == math.MaxInt64 {
			hi = tableEnd(t.ID)
		}
	}
	snap := s.db.NewSnapshot()
	mu.watching, mu.lowest = true, math.MaxInt64
	mu.Unlock()
	sealed := false
	defer func() {
		mu.Lock()
		mu.watching = false
		if sealed {
			// The commits old enough are sealed: forget them (those
			// after the snapshot stay).
			keep := mu.pending[:0:0]
			for i, c := range mu.pending {
				if i >= np || c.at >= cutoff {
					keep = append(keep, c)
				}
			}
			mu.pending, mu.sawAll = keep, true
		}
		mu.Unlock()
		_ = snap.Close()
	}()
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return res, err
	}
	defer func() { _ = it.Close() }()
	row := make(schema.Row, len(cur.Columns))
	b := newBlockBuilder(len(cur.Columns))
	commit := func() error {
		if b.len() == 0 {
			return nil
		}
		if err := s.commitBlock(cur, mu, &gen, b); err != nil {
			return err
		}
		res.Blocks++
		res.Rows += b.len()
		s.sealBlocks.Add(1)
		s.sealRows.Add(int64(b.len()))
		b = newBlockBuilder(len(cur.Columns))
		return nil
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		if at, ok := commitTime(it.Value()); !ok || at >= cutoff {
			if b.len() > 0 {
				b.contiguous = false
			}
			continue
		}
		k, err := decodeRowKey(it.Key())
		if err != nil {
			return res, err
		}
		if err := decodeRowMask(it.Value(), row, nil); err != nil {
			return res, fmt.Errorf("sealing %s: %w", t.FullName(), err)
		}
		b.add(k, it.Key(), row)
		if b.len() == BlockRows {
			if err := commit(); err != nil {
				return res, err
			}
		}
	}
	if err := readError(t.FullName(), it.Error()); err != nil {
		return res, err
	}
	if err := commit(); err != nil {
		return res, err
	}
	sealed = true
	return res, nil
}

// commitTime reads a row's insert_timestamp (its second value, after
// row_id) without decoding the rest; false when it is not there.
func commitTime(v []byte) (int64, bool) {
	if len(v) == 0 || v[0] != tagInt {
		return 0, false
	}
	_, n := binary.Varint(v[1:])
	if n <= 0 || len(v) < 2+n || v[1+n] != tagTS {
		return 0, false
	}
	at, m := binary.Varint(v[2+n:])
	return at, m > 0
}

// commitBlock writes b's block and deletes its rows in one synced batch,
// unless the table was dropped or an expiry changed it since the snapshot.
func (s *Store) commitBlock(t *schema.Table, mu *tableLock, gen *uint64, b *blockBuilder) error {
	s.mu.Lock()
	s.nextBlock++
	id := s.nextBlock
	s.mu.Unlock()
	h, body := b.finish(id)
	mu.Lock()
	defer mu.Unlock()
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
	last := b.rowKeys[len(b.rowKeys)-1]
	// A range delete is safe when the snapshot had no other row between
	// the first and the last, and no row written since can fall there.
	if b.contiguous && (!mu.watching || mu.lowest > h.MaxTime) && len(b.rowKeys) > 1 {
		_ = batch.DeleteRange(b.rowKeys[0], append(append([]byte(nil), last...), 0), nil)
	} else {
		for _, k := range b.rowKeys {
			_ = batch.Delete(k, nil)
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("sealing %d rows of %s: %w", b.len(), t.FullName(), err)
	}
	mu.gen++
	*gen = mu.gen
	return nil
}

// SealAll seals every table's rows committed before cutoff; a table that
// changed under its seal is left for the next pass.
func (s *Store) SealAll(ctx context.Context, cutoff int64) (SealResult, error) {
	var total SealResult
	start := time.Now()
	defer func() {
		s.sealPasses.Add(1)
		s.sealNanos.Add(int64(time.Since(start)))
	}()
	for _, t := range s.Tables() {
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

// loadBlocks finds the highest block id, for the next one.
func (s *Store) loadBlocks() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixBody, '/'}, UpperBound: []byte{prefixBody, '/' + 1}})
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 14 {
			return fmt.Errorf("data dir %s: corrupt block key %q", s.dir, k)
		}
		s.nextBlock = max(s.nextBlock, binary.BigEndian.Uint64(k[6:]))
	}
	return it.Error()
}

// expireBlocks adds to b what an expiry at cutoff does to t's blocks:
// those wholly before it are deleted, those it cuts are rewritten with
// their rows at or after it. It returns the rows removed.
func (s *Store) expireBlocks(b *pebble.Batch, t *schema.Table, cutoff int64) (int64, error) {
	lo, hi := tableRange(prefixHeader, t.ID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		h, err := decodeHeader(it.Value())
		if err != nil {
			return n, fmt.Errorf("expiring rows of %s: block header %x: %w", t.FullName(), it.Key(), err)
		}
		if h.MinTime >= cutoff {
			continue
		}
		_ = b.Delete(it.Key(), nil)
		_ = b.Delete(bodyKey(t.ID, h.ID), nil)
		if h.MaxTime < cutoff {
			n += int64(h.Rows)
			continue
		}
		kept, err := s.rewriteBlock(b, t, h, func(k rowKey) bool { return k.time >= cutoff })
		if err != nil {
			return n, err
		}
		n += int64(h.Rows - kept)
	}
	return n, readError(t.FullName(), it.Error())
}

// deleteBlockRows adds to b the deletion of the rows of t's blocks that
// match accepts: a block with none is left, one with only those deleted,
// any other rewritten without them. It returns the rows deleted.
func (s *Store) deleteBlockRows(b *pebble.Batch, t *schema.Table, match func(rowKey) bool) (int64, error) {
	lo, hi := tableRange(prefixHeader, t.ID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		h, err := decodeHeader(it.Value())
		if err != nil {
			return n, fmt.Errorf("%s: block header %x: %w", t.FullName(), it.Key(), err)
		}
		blk, err := readBlock(s.db, t, h)
		if err != nil {
			return n, err
		}
		hits := 0
		for r := range h.Rows {
			k, err := blk.rowKey(r)
			if err != nil {
				return n, err
			}
			if match(k) {
				hits++
			}
		}
		if hits == 0 {
			continue
		}
		_ = b.Delete(it.Key(), nil)
		_ = b.Delete(bodyKey(t.ID, h.ID), nil)
		if hits < h.Rows {
			if _, err := s.rewriteBlock(b, t, h, func(k rowKey) bool { return !match(k) }); err != nil {
				return n, err
			}
		}
		n += int64(hits)
	}
	return n, readError(t.FullName(), it.Error())
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
