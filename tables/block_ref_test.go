package tables

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/lakenode/lakenode/tables/schema"
)

// The encoding and stats of a column of Values, as the first sealing code
// wrote them: colBuilder must match them byte for byte
// (TestColBuilderMatchesReference).

// encodeColumn appends one column's encoding: its kind, its NULLs, its
// values.
func encodeColumn(dst []byte, vals []schema.Value) []byte {
	typ, mixed, nulls := schema.TypeInvalid, false, 0
	for _, v := range vals {
		switch {
		case v.IsNull():
			nulls++
		case typ == schema.TypeInvalid:
			typ = v.Type
		case v.Type != typ:
			mixed = true
		}
	}
	switch {
	case nulls == len(vals):
		return append(dst, colNull)
	case mixed:
		dst = append(dst, colRaw)
		return appendRow(dst, vals)
	}
	appendNulls := func(dst []byte) []byte {
		if nulls == 0 {
			return append(dst, 0)
		}
		u := make([]uint64, len(vals))
		for i, v := range vals {
			if v.IsNull() {
				u[i] = 1
			}
		}
		return appendPacked(append(dst, 1), u, 1)
	}
	switch typ {
	case schema.TypeInt, schema.TypeTimestamp, schema.TypeBool:
		dst = appendNulls(append(dst, colInt, byte(typ)))
		ints := make([]int64, len(vals))
		var last int64
		for i, v := range vals {
			if !v.IsNull() {
				last = v.I
			}
			ints[i] = last // a NULL repeats the value before it: a zero delta
		}
		return appendInts(dst, ints)
	case schema.TypeFloat:
		dst = appendNulls(append(dst, colFloat))
		return appendFloats(dst, vals)
	default: // string
		dst = appendNulls(append(dst, colString))
		codes := make(map[string]uint32)
		var dict []string
		u := make([]uint64, len(vals))
		for i, v := range vals {
			if v.IsNull() {
				continue
			}
			c, ok := codes[v.S]
			if !ok {
				c = uint32(len(dict))
				codes[v.S] = c
				dict = append(dict, v.S)
			}
			u[i] = uint64(c)
		}
		dst = binary.AppendUvarint(dst, uint64(len(dict)))
		for _, s := range dict {
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
		w := width(uint64(len(dict) - 1))
		return appendPacked(append(dst, byte(w)), u, w)
	}
}

func appendFloats(dst []byte, vals []schema.Value) []byte {
	allSame, whole := true, true
	var first float64
	seen := false
	for _, v := range vals {
		if v.IsNull() {
			continue
		}
		if !seen {
			first, seen = v.F, true
		}
		if math.Float64bits(v.F) != math.Float64bits(first) {
			allSame = false
		}
		if v.F != math.Trunc(v.F) || math.Abs(v.F) >= 1<<53 || (v.F == 0 && math.Signbit(v.F)) {
			whole = false
		}
	}
	switch {
	case allSame:
		return binary.LittleEndian.AppendUint64(append(dst, floatConst), math.Float64bits(first))
	case whole:
		ints := make([]int64, len(vals))
		var last int64
		for i, v := range vals {
			if !v.IsNull() {
				last = int64(v.F)
			}
			ints[i] = last
		}
		return appendInts(append(dst, floatInts), ints)
	}
	dst = append(dst, floatPlain)
	for _, v := range vals {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F))
	}
	return dst
}

// columnStats computes a column's header entry.
func columnStats(vals []schema.Value) ColumnStats {
	var cs ColumnStats
	typ, mixed, nan := schema.TypeInvalid, false, false
	for _, v := range vals {
		switch {
		case v.IsNull():
			cs.Nulls++
			continue
		case typ == schema.TypeInvalid:
			typ = v.Type
			cs.Min, cs.Max = v, v
		case v.Type != typ:
			mixed = true
		}
		if mixed {
			continue
		}
		switch v.Type {
		case schema.TypeFloat:
			if math.IsNaN(v.F) {
				nan = true
			}
			cs.Min.F, cs.Max.F = min(cs.Min.F, v.F), max(cs.Max.F, v.F)
			cs.SumF += v.F
			cs.IsFloat = true
		case schema.TypeString:
			if strings.Compare(v.S, cs.Min.S) < 0 {
				cs.Min.S = v.S
			}
			if strings.Compare(v.S, cs.Max.S) > 0 {
				cs.Max.S = v.S
			}
		default:
			cs.Min.I, cs.Max.I = min(cs.Min.I, v.I), max(cs.Max.I, v.I)
			if v.Type == schema.TypeInt {
				cs.SumI += v.I
				cs.SumF += float64(v.I)
			}
		}
	}
	cs.HasMinMax = typ != schema.TypeInvalid && !mixed && !nan
	cs.HasSum = !mixed && (typ == schema.TypeInt || typ == schema.TypeFloat)
	if !cs.HasMinMax {
		cs.Min, cs.Max = schema.Null, schema.Null
	}
	if !cs.HasSum {
		cs.SumI, cs.SumF, cs.IsFloat = 0, 0, false
	}
	return cs
}

// encodeBody writes the body as blockBuilder.finish does: the column count, each column's length,
// then the columns.
func encodeBody(cols [][]byte) []byte {
	n := binary.MaxVarintLen64 * (len(cols) + 1)
	for _, c := range cols {
		n += len(c)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(cols)))
	for _, c := range cols {
		b = binary.AppendUvarint(b, uint64(len(c)))
	}
	for _, c := range cols {
		b = append(b, c...)
	}
	return b
}
