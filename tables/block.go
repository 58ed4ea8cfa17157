package tables

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/lakenode/lakenode/tables/schema"
)

// A sealed block holds up to BlockRows rows of one table, column by column
// (FORMAT.md, "Sealed blocks"). Its header — time range, row count, commit
// range, the first row's key and per column the NULL count, min, max and
// sum — is a small value of its own, so that a query decides from headers
// which blocks to read, skip or answer without decoding.

// BlockRows is the most rows a block holds.
const BlockRows = 1 << 16

// keyCols are the row-key columns every block body starts with, in this
// order: the row's time (µs), source, partition, offset and element.
const keyCols = 5

// Vector is one column of a block, decoded.
type Vector struct {
	Type   schema.Type    // the column's type; TypeInvalid: every value NULL, or mixed types (Raw)
	Ints   []int64        // int, timestamp, bool (0/1)
	Floats []float64      // float
	Dict   []string       // string: the block's distinct values
	Codes  []uint32       // string: each row's index into Dict
	Nulls  []bool         // nil: no NULLs
	Raw    []schema.Value // a column whose values have more than one type
}

// Value is row i's value.
func (v *Vector) Value(i int) schema.Value {
	if v.Nulls != nil && v.Nulls[i] {
		return schema.Null
	}
	switch v.Type {
	case schema.TypeInt, schema.TypeTimestamp, schema.TypeBool:
		return schema.Value{Type: v.Type, I: v.Ints[i]}
	case schema.TypeFloat:
		return schema.Value{Type: schema.TypeFloat, F: v.Floats[i]}
	case schema.TypeString:
		return schema.Value{Type: schema.TypeString, S: v.Dict[v.Codes[i]]}
	}
	if v.Raw != nil {
		return v.Raw[i]
	}
	return schema.Null
}

// ColumnStats is what a block's header says of one column.
type ColumnStats struct {
	Nulls int
	// Min and Max are the extremes of the column's non-NULL values, when
	// HasMinMax: the column has one type and no NaN.
	Min, Max  schema.Value
	HasMinMax bool
	// Sums of a numeric column, as the SQL sum and avg add them: SumI of
	// the integers, SumF of every value as a float. HasSum for a column of
	// int or float values only.
	SumI    int64
	SumF    float64
	IsFloat bool
	HasSum  bool
}

// BlockHeader describes one sealed block.
type BlockHeader struct {
	ID               uint64
	Rows             int
	MinTime, MaxTime int64  // of the rows' keys (µs)
	MinSeq, MaxSeq   uint64 // tsd_id range
	first            rowKey // the first row's key: blocks merge with rows by it
	Cols             []ColumnStats
}

// column encodings
const (
	colNull   = 0
	colInt    = 1
	colFloat  = 2
	colString = 3
	colRaw    = 4
)

// integer encodings
const (
	intConst = 0
	intFOR   = 1 // frame of reference: min, then v-min bit-packed
	intDoD   = 2 // delta of delta: first, first delta, min, then dd-min bit-packed
)

// float encodings
const (
	floatConst = 0
	floatPlain = 1 // 8 bytes little-endian each
	floatInts  = 2 // every value a whole number of |v| < 2^53: as integers
)

var errCorruptBlock = errors.New("tables: corrupt block")

// appendPacked bit-packs vals at width w (each < 2^w), little-endian.
func appendPacked(dst []byte, vals []uint64, w uint) []byte {
	if w == 0 {
		return dst
	}
	var acc uint64
	var n uint
	for _, v := range vals {
		acc |= v << n
		if n+w >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			spill := 64 - n
			acc = 0
			if spill < w {
				acc = v >> spill
			}
			n = n + w - 64
		} else {
			n += w
		}
	}
	for ; n > 0; n -= min(n, 8) {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// packedLen is the bytes appendPacked writes for n values of width w.
func packedLen(n int, w uint) int { return (n*int(w) + 7) / 8 }

// unpack reads len(dst) values of width w from b into dst, each plus base
// (wrapping).
func unpack(dst []int64, b []byte, w uint, base uint64) {
	if w == 0 {
		for i := range dst {
			dst[i] = int64(base)
		}
		return
	}
	mask := uint64(math.MaxUint64)
	if w < 64 {
		mask = 1<<w - 1
	}
	i, p := 0, uint(0)
	// While 9 bytes remain from the value's first byte, read words.
	for ; i < len(dst) && int(p>>3)+9 <= len(b); i++ {
		idx, shift := p>>3, p&7
		v := binary.LittleEndian.Uint64(b[idx:]) >> shift
		if shift+w > 64 {
			v |= uint64(b[idx+8]) << (64 - shift)
		}
		dst[i] = int64(v&mask + base)
		p += w
	}
	for ; i < len(dst); i++ {
		idx, shift := p>>3, p&7
		var word uint64
		for j := 0; int(idx)+j < len(b) && j < 8; j++ {
			word |= uint64(b[int(idx)+j]) << (8 * j)
		}
		v := word >> shift
		if shift+w > 64 && int(idx)+8 < len(b) {
			v |= uint64(b[idx+8]) << (64 - shift)
		}
		dst[i] = int64(v&mask + base)
		p += w
	}
}

func width(x uint64) uint { return uint(bits.Len64(x)) }

// appendInts encodes vals with the smallest of constant, frame of
// reference and delta of delta.
func appendInts(dst []byte, vals []int64) []byte { return appendIntsTo(dst, vals, nil) }

// appendIntsTo is appendInts with its scratch in *u (grown as needed;
// nil: allocated), so that a seal does not allocate a column's worth of
// garbage per block.
func appendIntsTo(dst []byte, vals []int64, u *[]uint64) []byte {
	if u == nil {
		u = new([]uint64)
	}
	if len(vals) == 0 {
		return append(dst, intConst, 0)
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		return binary.AppendVarint(append(dst, intConst), lo)
	}
	wFOR := width(uint64(hi) - uint64(lo))
	if len(vals) > 2 {
		prev := vals[1] - vals[0]
		ddLo, ddHi := int64(math.MaxInt64), int64(math.MinInt64)
		for i := 2; i < len(vals); i++ {
			d := vals[i] - vals[i-1]
			dd := d - prev
			prev = d
			ddLo, ddHi = min(ddLo, dd), max(ddHi, dd)
		}
		wDoD := width(uint64(ddHi) - uint64(ddLo))
		if packedLen(len(vals)-2, wDoD)+20 < packedLen(len(vals), wFOR) {
			dst = append(dst, intDoD)
			dst = binary.AppendVarint(dst, vals[0])
			dst = binary.AppendVarint(dst, vals[1]-vals[0])
			dst = binary.AppendVarint(dst, ddLo)
			dst = append(dst, byte(wDoD))
			buf := (*u)[:0]
			prev = vals[1] - vals[0]
			for i := 2; i < len(vals); i++ {
				d := vals[i] - vals[i-1]
				buf = append(buf, uint64(d-prev)-uint64(ddLo))
				prev = d
			}
			*u = buf
			return appendPacked(dst, buf, wDoD)
		}
	}
	dst = append(dst, intFOR)
	dst = binary.AppendVarint(dst, lo)
	dst = append(dst, byte(wFOR))
	buf := (*u)[:0]
	for _, v := range vals {
		buf = append(buf, uint64(v)-uint64(lo))
	}
	*u = buf
	return appendPacked(dst, buf, wFOR)
}

// blockReader reads a block's encodings, failing with errCorruptBlock.
type blockReader struct {
	b   []byte
	err error
}

func (r *blockReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorruptBlock
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *blockReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := varint(r.b)
	if n <= 0 {
		r.err = errCorruptBlock
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *blockReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := uvarint(r.b)
	if n <= 0 {
		r.err = errCorruptBlock
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *blockReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errCorruptBlock
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// packed reads n values of width w into dst (len n), each plus base.
func (r *blockReader) packed(dst []int64, w uint, base uint64) {
	if w > 64 {
		r.err = errCorruptBlock
		return
	}
	b := r.bytes(packedLen(len(dst), w))
	if r.err != nil {
		return
	}
	unpack(dst, b, w, base)
}

// ints decodes n integers written by appendInts.
func (r *blockReader) ints(n int) []int64 {
	out := make([]int64, n)
	switch r.byte() {
	case intConst:
		v := r.varint()
		for i := range out {
			out[i] = v
		}
	case intFOR:
		lo := r.varint()
		r.packed(out, uint(r.byte()), uint64(lo))
	case intDoD:
		if n < 3 {
			r.err = errCorruptBlock
			return nil
		}
		first, d, lo := r.varint(), r.varint(), r.varint()
		r.packed(out[2:], uint(r.byte()), uint64(lo))
		if r.err != nil {
			return nil
		}
		out[0], out[1] = first, first+d
		prev := out[1]
		for i := 2; i < n; i++ {
			d += out[i]
			prev += d
			out[i] = prev
		}
	default:
		r.err = errCorruptBlock
	}
	return out
}

// decodeColumn decodes a column of n rows written by colBuilder.encode.
func decodeColumn(b []byte, n int) (*Vector, error) {
	r := &blockReader{b: b}
	v := &Vector{}
	kind := r.byte()
	switch kind {
	case colNull:
		return v, r.err
	case colRaw:
		row := make(schema.Row, n)
		if err := decodeRowMask(r.b, row, nil); err != nil {
			return nil, errCorruptBlock
		}
		v.Raw = row
		return v, nil
	case colInt:
		v.Type = schema.Type(r.byte())
		if v.Type != schema.TypeInt && v.Type != schema.TypeTimestamp && v.Type != schema.TypeBool {
			return nil, errCorruptBlock
		}
	case colFloat:
		v.Type = schema.TypeFloat
	case colString:
		v.Type = schema.TypeString
	default:
		return nil, errCorruptBlock
	}
	if r.byte() == 1 {
		u := make([]int64, n)
		r.packed(u, 1, 0)
		if r.err == nil {
			v.Nulls = make([]bool, n)
			for i, x := range u {
				v.Nulls[i] = x == 1
			}
		}
	}
	switch kind {
	case colInt:
		v.Ints = r.ints(n)
	case colFloat:
		v.Floats = r.floats(n)
	case colString:
		d := r.uvarint()
		if d > uint64(n) {
			return nil, errCorruptBlock
		}
		v.Dict = make([]string, d)
		for i := range v.Dict {
			v.Dict[i] = string(r.bytes(int(r.uvarint())))
		}
		u := make([]int64, n)
		r.packed(u, uint(r.byte()), 0)
		if r.err != nil {
			return nil, r.err
		}
		v.Codes = make([]uint32, n)
		for i, x := range u {
			if uint64(x) >= d && (v.Nulls == nil || !v.Nulls[i]) {
				return nil, errCorruptBlock
			}
			v.Codes[i] = uint32(x)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return v, nil
}

func (r *blockReader) floats(n int) []float64 {
	out := make([]float64, n)
	switch r.byte() {
	case floatConst:
		b := r.bytes(8)
		if r.err != nil {
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		for i := range out {
			out[i] = f
		}
	case floatInts:
		for i, x := range r.ints(n) {
			out[i] = float64(x)
		}
	case floatPlain:
		b := r.bytes(8 * n)
		if r.err != nil {
			return nil
		}
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	default:
		r.err = errCorruptBlock
	}
	return out
}

const headerVersion = 1

func (h *BlockHeader) encode() []byte {
	b := []byte{headerVersion}
	b = binary.AppendUvarint(b, h.ID)
	b = binary.AppendUvarint(b, uint64(h.Rows))
	b = binary.AppendVarint(b, h.MinTime)
	b = binary.AppendVarint(b, h.MaxTime)
	b = binary.AppendUvarint(b, h.MinSeq)
	b = binary.AppendUvarint(b, h.MaxSeq)
	b = binary.AppendUvarint(b, uint64(h.first.src))
	b = binary.AppendVarint(b, int64(h.first.partition))
	b = binary.AppendVarint(b, h.first.offset)
	b = binary.AppendVarint(b, int64(h.first.elem))
	b = binary.AppendUvarint(b, uint64(len(h.Cols)))
	for _, c := range h.Cols {
		b = binary.AppendUvarint(b, uint64(c.Nulls))
		var flags byte
		if c.HasMinMax {
			flags |= 1
		}
		if c.HasSum {
			flags |= 2
		}
		if c.IsFloat {
			flags |= 4
		}
		b = append(b, flags)
		if c.HasMinMax {
			b = appendRow(b, []schema.Value{c.Min, c.Max})
		}
		if c.HasSum {
			b = binary.AppendVarint(b, c.SumI)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.SumF))
		}
	}
	return b
}

func decodeHeader(b []byte) (*BlockHeader, error) {
	r := &blockReader{b: b}
	if r.byte() != headerVersion {
		return nil, fmt.Errorf("%w: unknown header version", errCorruptBlock)
	}
	h := &BlockHeader{ID: r.uvarint(), Rows: int(r.uvarint()), MinTime: r.varint(), MaxTime: r.varint(), MinSeq: r.uvarint(), MaxSeq: r.uvarint()}
	h.first = rowKey{time: h.MinTime, src: uint32(r.uvarint()), partition: int32(r.varint()), offset: r.varint(), elem: int32(r.varint())}
	n := r.uvarint()
	if r.err != nil || n > 1<<16 || h.Rows <= 0 || h.Rows > BlockRows {
		return nil, errCorruptBlock
	}
	h.Cols = make([]ColumnStats, n)
	for i := range h.Cols {
		c := &h.Cols[i]
		c.Nulls = int(r.uvarint())
		flags := r.byte()
		c.HasMinMax, c.HasSum, c.IsFloat = flags&1 != 0, flags&2 != 0, flags&4 != 0
		if c.HasMinMax && r.err == nil {
			// min and max: two values of the row codec
			mm := make(schema.Row, 2)
			rest, err := decodeValues(r.b, mm)
			if err != nil {
				return nil, errCorruptBlock
			}
			r.b = rest
			c.Min, c.Max = mm[0], mm[1]
		}
		if c.HasSum {
			c.SumI = r.varint()
			if b := r.bytes(8); r.err == nil {
				c.SumF = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return h, nil
}

// decodeValues decodes len(dst) values of the row codec from b and returns
// what follows them.
func decodeValues(b []byte, dst schema.Row) ([]byte, error) {
	for i := range dst {
		if len(b) == 0 {
			return nil, errCorruptRow
		}
		n := valueLen(b)
		if n <= 0 || n > len(b) {
			return nil, errCorruptRow
		}
		if err := decodeRowMask(b[:n], dst[i:i+1], nil); err != nil {
			return nil, err
		}
		b = b[n:]
	}
	return b, nil
}

// valueLen is the length of the row-codec value at the start of b (0 when
// it is malformed).
func valueLen(b []byte) int {
	switch b[0] {
	case tagNull, tagFalse, tagTrue:
		return 1
	case tagInt, tagTS:
		_, n := varint(b[1:])
		if n <= 0 {
			return 0
		}
		return 1 + n
	case tagFloat:
		return 9
	case tagStr:
		l, n := uvarint(b[1:])
		if n <= 0 || l > uint64(len(b)) {
			return 0
		}
		return 1 + n + int(l)
	}
	return 0
}

// blockBody is a block's encoded columns: the key columns, then the
// table's columns at seal time.
type blockBody struct {
	rows int
	cols [][]byte
}

func decodeBody(b []byte, rows int) (*blockBody, error) {
	r := &blockReader{b: b}
	n := r.uvarint()
	if r.err != nil || n < keyCols || n > 1<<16 {
		return nil, errCorruptBlock
	}
	lens := make([]int, n)
	for i := range lens {
		lens[i] = int(r.uvarint())
	}
	body := &blockBody{rows: rows, cols: make([][]byte, n)}
	for i, l := range lens {
		body.cols[i] = r.bytes(l)
	}
	if r.err != nil {
		return nil, r.err
	}
	return body, nil
}
