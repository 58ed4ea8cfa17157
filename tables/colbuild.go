package tables

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/lakenode/lakenode/tables/schema"
)

// colBuilder gathers one column of a block as typed slices, so that a seal
// decodes each row's bytes straight into them (a string is allocated once
// per distinct value, not once per row) and encodes them without going
// through schema.Value. Its encoding and stats are those of encodeColumn
// and columnStats over the same values, byte for byte.
type colBuilder struct {
	n     int
	nulls int
	typ   schema.Type // of the first non-NULL value; TypeInvalid: none yet
	null  []bool      // per row
	ints  []int64     // int, timestamp, bool: the value, a NULL's the one before it
	flts  []float64   // float: the value, 0 for a NULL
	codes []uint32    // string: the dictionary index, 0 for a NULL
	dict  []string    // in order of first use
	index map[string]uint32
	// recent caches dictionary codes (plus one; 0 empty) by a hash of a
	// string's last bytes, before the map: a map lookup was a fifth of a
	// seal's CPU on rows with a few high-cardinality strings.
	recent []uint32
	// mixed holds every value once two types met in the column (rare:
	// the column is then stored raw).
	mixed []schema.Value
	u     []uint64 // encode's scratch
	fints []int64  // encode's scratch: whole floats as ints
}

// scratch is c.u sized n and zeroed.
func (c *colBuilder) scratch(n int) []uint64 {
	if cap(c.u) < n {
		c.u = make([]uint64, n)
	}
	c.u = c.u[:n]
	clear(c.u)
	return c.u
}

func (c *colBuilder) reset() {
	c.n, c.nulls, c.typ = 0, 0, schema.TypeInvalid
	c.null, c.ints, c.flts, c.codes = c.null[:0], c.ints[:0], c.flts[:0], c.codes[:0]
	clear(c.dict)
	c.dict = c.dict[:0]
	clear(c.index)
	clear(c.recent)
	c.mixed = nil
}

func (c *colBuilder) addNull() {
	c.n++
	c.nulls++
	c.null = append(c.null, true)
	if c.mixed != nil {
		c.mixed = append(c.mixed, schema.Null)
		return
	}
	switch c.typ {
	case schema.TypeInvalid:
	case schema.TypeFloat:
		c.flts = append(c.flts, 0)
	case schema.TypeString:
		c.codes = append(c.codes, 0)
	default:
		c.ints = append(c.ints, c.lastInt())
	}
}

func (c *colBuilder) lastInt() int64 {
	if len(c.ints) == 0 {
		return 0
	}
	return c.ints[len(c.ints)-1]
}

// settle makes typ the column's type, false when another type is there
// already (the column is then mixed, and the caller adds a Value).
func (c *colBuilder) settle(typ schema.Type) bool {
	if c.mixed != nil {
		return false
	}
	if c.typ == typ {
		return true
	}
	if c.typ != schema.TypeInvalid {
		c.toMixed()
		return false
	}
	// The first non-NULL value: the NULLs before it become slots.
	c.typ = typ
	k := c.n
	switch typ {
	case schema.TypeFloat:
		c.flts = append(c.flts, make([]float64, k)...)
	case schema.TypeString:
		c.codes = append(c.codes, make([]uint32, k)...)
		if c.index == nil {
			c.index = map[string]uint32{}
			c.recent = make([]uint32, 1<<recentBits)
		}
	default:
		c.ints = append(c.ints, make([]int64, k)...)
	}
	return true
}

func (c *colBuilder) addInt(typ schema.Type, x int64) {
	if !c.settle(typ) {
		c.addMixed(schema.Value{Type: typ, I: x})
		return
	}
	c.n++
	c.null = append(c.null, false)
	c.ints = append(c.ints, x)
}

func (c *colBuilder) addFloat(f float64) {
	if !c.settle(schema.TypeFloat) {
		c.addMixed(schema.Float(f))
		return
	}
	c.n++
	c.null = append(c.null, false)
	c.flts = append(c.flts, f)
}

// recentBits sizes colBuilder.recent: 4,096 slots, 16 KiB per string column.
const recentBits = 12

// recentSlot hashes a string's length and last eight bytes (most strings
// that differ, differ there: ids, counters, addresses); a collision only
// costs a map lookup.
func recentSlot(raw []byte) uint32 {
	var w uint64
	if len(raw) >= 8 {
		w = binary.LittleEndian.Uint64(raw[len(raw)-8:])
	} else {
		for _, c := range raw {
			w = w<<8 | uint64(c)
		}
	}
	return uint32((w ^ uint64(len(raw))) * 0x9e3779b97f4a7c15 >> (64 - recentBits))
}

// addString adds raw (not kept: copied when new to the dictionary).
func (c *colBuilder) addString(raw []byte) {
	if !c.settle(schema.TypeString) {
		c.addMixed(schema.Str(string(raw)))
		return
	}
	var code uint32
	if k := len(c.codes); k > 0 && !c.null[k-1] && c.dict[c.codes[k-1]] == string(raw) {
		code = c.codes[k-1] // the previous row's value: no lookup
	} else if slot := recentSlot(raw); c.recent[slot] != 0 && c.dict[c.recent[slot]-1] == string(raw) {
		code = c.recent[slot] - 1
	} else {
		var ok bool
		if code, ok = c.index[string(raw)]; !ok {
			code = uint32(len(c.dict))
			s := string(raw)
			c.index[s] = code
			c.dict = append(c.dict, s)
		}
		c.recent[slot] = code + 1
	}
	c.n++
	c.null = append(c.null, false)
	c.codes = append(c.codes, code)
}

func (c *colBuilder) addMixed(v schema.Value) {
	c.n++
	c.mixed = append(c.mixed, v)
	c.null = append(c.null, false)
}

func (c *colBuilder) addValue(v schema.Value) {
	switch v.Type {
	case schema.TypeInvalid:
		c.addNull()
	case schema.TypeFloat:
		c.addFloat(v.F)
	case schema.TypeString:
		if !c.settle(schema.TypeString) {
			c.addMixed(v)
			return
		}
		code, ok := c.index[v.S]
		if !ok {
			code = uint32(len(c.dict))
			c.index[v.S] = code
			c.dict = append(c.dict, v.S)
		}
		c.n++
		c.null = append(c.null, false)
		c.codes = append(c.codes, code)
	default:
		c.addInt(v.Type, v.I)
	}
}

// value is row i as a Value.
func (c *colBuilder) value(i int) schema.Value {
	switch {
	case c.mixed != nil:
		return c.mixed[i]
	case c.null[i]:
		return schema.Null
	case c.typ == schema.TypeFloat:
		return schema.Float(c.flts[i])
	case c.typ == schema.TypeString:
		return schema.Str(c.dict[c.codes[i]])
	default:
		return schema.Value{Type: c.typ, I: c.ints[i]}
	}
}

// toMixed turns the column's values so far into Values.
func (c *colBuilder) toMixed() {
	m := make([]schema.Value, c.n, max(c.n, 16))
	for i := range c.n {
		m[i] = c.value(i)
	}
	c.mixed = m
}

// addRow decodes one stored row (the row codec) into cols; columns past
// its values get NULLs.
func addRow(cols []colBuilder, b []byte) error {
	i := 0
	for ; i < len(cols) && len(b) > 0; i++ {
		tag := b[0]
		b = b[1:]
		c := &cols[i]
		switch tag {
		case tagNull:
			c.addNull()
		case tagInt, tagTS:
			x, n := varint(b)
			if n <= 0 {
				return errCorruptRow
			}
			b = b[n:]
			typ := schema.TypeInt
			if tag == tagTS {
				typ = schema.TypeTimestamp
			}
			c.addInt(typ, x)
		case tagFloat:
			if len(b) < 8 {
				return errCorruptRow
			}
			c.addFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case tagStr:
			l, n := uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errCorruptRow
			}
			c.addString(b[n : n+int(l)])
			b = b[n+int(l):]
		case tagFalse:
			c.addInt(schema.TypeBool, 0)
		case tagTrue:
			c.addInt(schema.TypeBool, 1)
		default:
			return fmt.Errorf("%w: tag %d", errCorruptRow, tag)
		}
	}
	for ; i < len(cols); i++ {
		cols[i].addNull()
	}
	return nil
}

// encode appends the column's encoding, as encodeColumn would.
func (c *colBuilder) encode(dst []byte) []byte {
	switch {
	case c.nulls == c.n:
		return append(dst, colNull)
	case c.mixed != nil:
		return appendRow(append(dst, colRaw), c.mixed)
	}
	var kind byte
	switch c.typ {
	case schema.TypeInt, schema.TypeTimestamp, schema.TypeBool:
		kind = colInt
	case schema.TypeFloat:
		kind = colFloat
	default:
		kind = colString
	}
	dst = append(dst, kind)
	if kind == colInt {
		dst = append(dst, byte(c.typ))
	}
	if c.nulls == 0 {
		dst = append(dst, 0)
	} else {
		u := c.scratch(c.n)
		for i, isNull := range c.null {
			if isNull {
				u[i] = 1
			}
		}
		dst = appendPacked(append(dst, 1), u, 1)
	}
	switch kind {
	case colInt:
		return appendIntsTo(dst, c.ints, &c.u)
	case colFloat:
		return c.appendFloats(dst)
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.dict)))
	for _, s := range c.dict {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	u := c.scratch(c.n)
	for i, code := range c.codes {
		u[i] = uint64(code)
	}
	w := width(uint64(len(c.dict) - 1))
	return appendPacked(append(dst, byte(w)), u, w)
}

func (c *colBuilder) appendFloats(dst []byte) []byte {
	allSame, whole, seen := true, true, false
	var first float64
	for i, f := range c.flts {
		if c.null[i] {
			continue
		}
		if !seen {
			first, seen = f, true
		}
		if math.Float64bits(f) != math.Float64bits(first) {
			allSame = false
		}
		if f != math.Trunc(f) || math.Abs(f) >= 1<<53 || (f == 0 && math.Signbit(f)) {
			whole = false
		}
	}
	switch {
	case allSame:
		return binary.LittleEndian.AppendUint64(append(dst, floatConst), math.Float64bits(first))
	case whole:
		ints := c.fints[:0]
		var last int64
		for i, f := range c.flts {
			if !c.null[i] {
				last = int64(f)
			}
			ints = append(ints, last)
		}
		c.fints = ints
		return appendIntsTo(append(dst, floatInts), ints, &c.u)
	}
	dst = append(dst, floatPlain)
	for _, f := range c.flts {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	return dst
}

// stats are the column's, as columnStats would give them.
func (c *colBuilder) stats() ColumnStats {
	cs := ColumnStats{Nulls: c.nulls}
	if c.mixed != nil || c.nulls == c.n {
		cs.Min, cs.Max = schema.Null, schema.Null
		return cs
	}
	first := true
	switch c.typ {
	case schema.TypeFloat:
		nan := false
		for i, f := range c.flts {
			if c.null[i] {
				continue
			}
			if first {
				cs.Min, cs.Max, first = schema.Float(f), schema.Float(f), false
			}
			nan = nan || math.IsNaN(f)
			cs.Min.F, cs.Max.F = min(cs.Min.F, f), max(cs.Max.F, f)
			cs.SumF += f
		}
		cs.IsFloat, cs.HasSum, cs.HasMinMax = true, true, !nan
	case schema.TypeString:
		for _, s := range c.dict {
			if first {
				cs.Min, cs.Max, first = schema.Str(s), schema.Str(s), false
			}
			if strings.Compare(s, cs.Min.S) < 0 {
				cs.Min.S = s
			}
			if strings.Compare(s, cs.Max.S) > 0 {
				cs.Max.S = s
			}
		}
		cs.HasMinMax = true
	default:
		sum := c.typ == schema.TypeInt
		for i, x := range c.ints {
			if c.null[i] {
				continue
			}
			if first {
				cs.Min, cs.Max, first = schema.Value{Type: c.typ, I: x}, schema.Value{Type: c.typ, I: x}, false
			}
			cs.Min.I, cs.Max.I = min(cs.Min.I, x), max(cs.Max.I, x)
			if sum {
				cs.SumI += x
				cs.SumF += float64(x)
			}
		}
		cs.HasMinMax, cs.HasSum = true, sum
	}
	if !cs.HasMinMax {
		cs.Min, cs.Max = schema.Null, schema.Null
	}
	return cs
}
