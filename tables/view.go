package tables

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lakenode/lakenode/tables/schema"
)

// A View is one instant of the store: its rows and its sealed blocks read
// from one snapshot, so a query never sees a row twice or misses one while
// a seal replaces rows with a block.
type View struct {
	s    *Store
	snap *pebble.Snapshot
}

// View takes a snapshot; Close releases it.
func (s *Store) View() *View { return &View{s: s, snap: s.db.NewSnapshot()} }

// Close releases the view's snapshot.
func (v *View) Close() error { return v.snap.Close() }

// Blocks returns the headers of t's blocks that may hold rows in r, in the
// order of their first rows.
func (v *View) Blocks(ctx context.Context, t *schema.Table, r TimeRange) ([]*BlockHeader, error) {
	lo, hi := tableRange(prefixHeader, t.ID)
	if r.HasFrom {
		lo = headerTimeBound(t.ID, r.From)
	}
	it, err := v.snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", t.FullName(), err)
	}
	defer func() { _ = it.Close() }()
	var hs []*BlockHeader
	for it.First(); it.Valid(); it.Next() {
		h, err := decodeHeader(it.Value())
		if err != nil {
			return nil, fmt.Errorf("reading %s: block header %x: %w", t.FullName(), it.Key(), err)
		}
		if r.HasTo && h.MinTime >= r.To {
			continue
		}
		hs = append(hs, h)
	}
	if err := readError(t.FullName(), it.Error()); err != nil {
		return nil, err
	}
	slices.SortFunc(hs, func(a, b *BlockHeader) int { return compareRowKeys(a.first, b.first) })
	return hs, nil
}

func compareRowKeys(a, b rowKey) int {
	switch {
	case a.time != b.time:
		return cmp.Compare(a.time, b.time)
	case a.src != b.src:
		return cmp.Compare(a.src, b.src)
	case a.partition != b.partition:
		return cmp.Compare(a.partition, b.partition)
	case a.offset != b.offset:
		return cmp.Compare(a.offset, b.offset)
	}
	return cmp.Compare(a.elem, b.elem)
}

// Block is a sealed block read from a view: its header and its columns,
// each decoded when first asked for.
type Block struct {
	H     *BlockHeader
	table string
	body  *blockBody
	vecs  []*Vector
	keys  []*Vector
}

// Block reads the block h describes.
func (v *View) Block(t *schema.Table, h *BlockHeader) (*Block, error) {
	return readBlock(v.snap, t, h)
}

// getter is what blocks are read from: the database or a snapshot.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func readBlock(g getter, t *schema.Table, h *BlockHeader) (*Block, error) {
	val, closer, err := g.Get(bodyKey(t.ID, h.ID))
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, fmt.Errorf("reading %s: block %d has a header and no columns", t.FullName(), h.ID)
		}
		return nil, readError(t.FullName(), err)
	}
	raw := bytes.Clone(val)
	_ = closer.Close()
	body, err := decodeBody(raw, h.Rows)
	if err != nil {
		return nil, fmt.Errorf("reading %s: block %d: %w", t.FullName(), h.ID, err)
	}
	return &Block{H: h, table: t.FullName(), body: body, vecs: make([]*Vector, len(body.cols)-keyCols), keys: make([]*Vector, keyCols)}, nil
}

// Column is the block's column i of the table (system columns first); a
// column added to the table after the block was sealed reads as NULL.
func (b *Block) Column(i int) (*Vector, error) {
	if i >= len(b.vecs) {
		return &Vector{}, nil
	}
	if b.vecs[i] == nil {
		v, err := decodeColumn(b.body.cols[keyCols+i], b.H.Rows)
		if err != nil {
			return nil, fmt.Errorf("reading %s: block %d column %d: %w", b.table, b.H.ID, i, err)
		}
		b.vecs[i] = v
	}
	return b.vecs[i], nil
}

// Times is the time of each row of the block (the time column's value, 0
// for NULL), in key order.
func (b *Block) Times() ([]int64, error) {
	v, err := b.keyColumn(0)
	if err != nil {
		return nil, err
	}
	return v.Ints, nil
}

func (b *Block) keyColumn(i int) (*Vector, error) {
	if b.keys[i] == nil {
		r := &blockReader{b: b.body.cols[i]}
		ints := r.ints(b.H.Rows)
		if r.err != nil {
			return nil, fmt.Errorf("reading %s: block %d key column %d: %w", b.table, b.H.ID, i, r.err)
		}
		b.keys[i] = &Vector{Type: schema.TypeInt, Ints: ints}
	}
	return b.keys[i], nil
}

// Rows iterates t's rows in r that are not sealed, in time order.
func (v *View) Rows(ctx context.Context, t *schema.Table, r TimeRange) (*Iter, error) {
	lo, hi := ScanBounds(t, r)
	it, err := v.snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", t.FullName(), err)
	}
	hook := ScanHook(ctx)
	return &Iter{ctx: ctx, t: t, table: t.FullName(), it: it, row: make(schema.Row, len(t.Columns)), hook: hook, tr: r}, nil
}

// Scan iterates every row of t in r, sealed or not, in key order (time,
// then source, partition, offset, element) as if none were sealed.
func (v *View) Scan(ctx context.Context, t *schema.Table, r TimeRange) (*Iter, error) {
	hs, err := v.Blocks(ctx, t, r)
	if err != nil {
		return nil, err
	}
	it, err := v.Rows(ctx, t, r)
	if err != nil {
		return nil, err
	}
	it.view, it.blocks = v, hs
	return it, nil
}

// blockCursor walks one block's rows within a scan's time range.
type blockCursor struct {
	b     *Block
	pos   int
	keys  []*Vector
	cols  []*Vector // the columns the scan decodes (nil: not needed)
	first bool
	key   []byte // the current row's key
	table uint32
}

func (c *blockCursor) setKey() {
	k := c.keys
	c.key = appendRowKey(c.key[:0], c.table, k[0].Ints[c.pos], uint32(k[1].Ints[c.pos]), int32(k[2].Ints[c.pos]), k[3].Ints[c.pos], int32(k[4].Ints[c.pos]))
}

// advance moves to the next row in tr; false past the block's end.
func (c *blockCursor) advance(tr TimeRange) bool {
	if c.first {
		c.first = false
	} else {
		c.pos++
	}
	times := c.keys[0].Ints
	for ; c.pos < c.b.H.Rows; c.pos++ {
		tm := times[c.pos]
		if tr.HasFrom && tm < tr.From {
			continue
		}
		if tr.HasTo && tm >= tr.To {
			continue
		}
		c.setKey()
		return true
	}
	return false
}

// openBlock reads the scan's next block and positions it on its first row
// in range; false when it has none.
func (i *Iter) openBlock() (bool, error) {
	h := i.blocks[0]
	i.blocks = i.blocks[1:]
	b, err := i.view.Block(i.t, h)
	if err != nil {
		return false, err
	}
	c := &blockCursor{b: b, keys: make([]*Vector, keyCols), cols: make([]*Vector, len(i.row)), first: true, table: i.t.ID}
	for k := range c.keys {
		if c.keys[k], err = b.keyColumn(k); err != nil {
			return false, err
		}
	}
	for col := range c.cols {
		if i.need == nil || i.need[col] {
			if c.cols[col], err = b.Column(col); err != nil {
				return false, err
			}
		}
	}
	if !c.advance(i.tr) {
		return false, nil
	}
	i.open = append(i.open, c)
	return true, nil
}

// nextMerged moves a scan with blocks to its next row in key order.
func (i *Iter) nextMerged() (bool, error) {
	// Advance whichever source gave the last row.
	switch {
	case !i.started:
		i.started = true
		i.rowsValid = i.it.First()
	case i.from < 0:
		i.rowsValid = i.it.Next()
	default:
		if c := i.open[i.from]; !c.advance(i.tr) {
			i.open = slices.Delete(i.open, i.from, i.from+1)
		}
	}
	if !i.rowsValid {
		if err := readError(i.table, i.it.Error()); err != nil {
			return false, err
		}
	}
	for {
		best, from := []byte(nil), -1
		if i.rowsValid {
			best = i.it.Key()
		}
		for j, c := range i.open {
			if best == nil || bytes.Compare(c.key, best) < 0 {
				best, from = c.key, j
			}
		}
		// A block whose first row sorts before the best row so far may
		// hold the next row: open it first.
		if len(i.blocks) > 0 {
			h := i.blocks[0]
			if best == nil || bytes.Compare(appendRowKey(i.fk[:0], i.t.ID, h.first.time, h.first.src, h.first.partition, h.first.offset, h.first.elem), best) <= 0 {
				if _, err := i.openBlock(); err != nil {
					return false, err
				}
				continue
			}
		}
		if best == nil {
			return false, nil
		}
		i.from = from
		if from < 0 {
			return true, decodeRowMask(i.it.Value(), i.row, i.need)
		}
		c := i.open[from]
		for col, v := range c.cols {
			if v == nil {
				i.row[col] = schema.Value{}
			} else {
				i.row[col] = v.Value(c.pos)
			}
		}
		return true, nil
	}
}
