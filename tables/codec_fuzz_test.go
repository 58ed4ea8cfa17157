package tables

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
)

// fuzzValues turns fuzz bytes into row values of every type: a kind byte,
// then the value's bytes. It returns the values and a column mask drawn
// from the kind bytes.
func fuzzValues(b []byte) ([]schema.Value, []bool) {
	var vals []schema.Value
	var need []bool
	next := func(n int) []byte {
		out := make([]byte, n)
		k := copy(out, b)
		b = b[k:]
		return out
	}
	for len(b) > 0 && len(vals) < 64 {
		kind := b[0]
		b = b[1:]
		need = append(need, kind&0x80 == 0)
		switch kind % 7 {
		case 0:
			vals = append(vals, schema.Null)
		case 1:
			vals = append(vals, schema.Int(int64(binary.LittleEndian.Uint64(next(8)))))
		case 2:
			vals = append(vals, schema.Float(math.Float64frombits(binary.LittleEndian.Uint64(next(8)))))
		case 3:
			n := int(next(1)[0])
			vals = append(vals, schema.Str(string(next(min(n, len(b))))))
		case 4:
			vals = append(vals, schema.TimestampMicros(int64(binary.LittleEndian.Uint64(next(8)))))
		case 5:
			vals = append(vals, schema.Bool(next(1)[0]&1 == 1))
		case 6:
			// A long string: the length's varint takes several bytes.
			vals = append(vals, schema.Str(string(make([]byte, 128+int(next(1)[0])*64))))
		}
	}
	return vals, need
}

// FuzzRowCodec: values of every type round-trip through the row codec —
// whole, into a longer row (older rows read under a newer schema), into a
// reused row, with a column mask, after a prefix, and through the exported
// pair used between nodes — and arbitrary bytes never panic the decoders
// of rows, table stats and schemas.
func FuzzRowCodec(f *testing.F) {
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 2, 'h', 'i', 0, 2, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 5, 1, 6, 3})
	f.Add([]byte{0x83, 5, 'a', 'b', 'c', 'd', 'e', 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x80, 0x85, 0})
	f.Add(appendRow(nil, []schema.Value{schema.Int(1), schema.Str("é"), schema.Float(1.5), schema.Null, schema.TimestampMicros(-3), schema.Bool(true)}))
	f.Add([]byte{tagStr, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(tableStats{rows: 3, minTime: -5, maxTime: 1 << 60, hasTime: true, nextRowID: 9, seq: 1 << 63, lastCommit: 1776294106223456}.encode())
	f.Add(encodeSchema(&schema.Table{DBMS: "lsl_demo", Name: "ping_sensor", ID: 7, Version: 2, TimeColumn: 4,
		Columns: []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Arbitrary bytes.
		for _, n := range []int{0, 1, 8} {
			row := make(schema.Row, n)
			if err := decodeRowMask(b, row, nil); err == nil {
				again := make(schema.Row, n)
				if err := decodeRowMask(appendRow(nil, row), again, nil); err != nil || !sameRow(row, again) {
					t.Fatalf("%x decodes to %#v, which re-decodes to %#v (%v)", b, row, again, err)
				}
			}
		}
		if st, err := decodeStats(b); err == nil {
			if again, err := decodeStats(st.encode()); err != nil || again != st {
				t.Fatalf("stats %+v re-decode to %+v (%v)", st, again, err)
			}
		}
		if tbl, err := decodeSchema(b); err == nil {
			if again, err := decodeSchema(encodeSchema(tbl)); err != nil || !reflect.DeepEqual(again, tbl) {
				t.Fatalf("schema %+v re-decodes to %+v (%v)", tbl, again, err)
			}
		}

		// Values made from the bytes.
		vals, need := fuzzValues(b)
		enc := appendRow(nil, vals)
		got := make(schema.Row, len(vals))
		if err := decodeRowMask(enc, got, nil); err != nil || !sameRow(got, vals) {
			t.Fatalf("%#v round-trips to %#v (%v)", vals, got, err)
		}
		longer := make(schema.Row, len(vals)+3)
		for i := range longer {
			longer[i] = schema.Str("stale")
		}
		if err := decodeRowMask(enc, longer, nil); err != nil || !sameRow(longer[:len(vals)], vals) {
			t.Fatalf("into a longer row: %#v (%v)", longer, err)
		}
		for _, v := range longer[len(vals):] {
			if !v.IsNull() {
				t.Fatalf("a column past the encoding is %#v, not NULL", v)
			}
		}
		if len(vals) > 0 {
			shorter := make(schema.Row, len(vals)-1)
			if err := decodeRowMask(enc, shorter, nil); err != nil || !sameRow(shorter, vals[:len(vals)-1]) {
				t.Fatalf("into a shorter row: %#v (%v)", shorter, err)
			}
		}
		// A reused row holding the previous decode, then a masked decode.
		if err := decodeRowMask(enc, got, nil); err != nil || !sameRow(got, vals) {
			t.Fatalf("into a reused row: %#v (%v)", got, err)
		}
		masked := make(schema.Row, len(vals))
		if err := decodeRowMask(enc, masked, need); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			want := v
			if !need[i] && v.Type == schema.TypeString {
				want = schema.Null
			}
			if !sameValue(masked[i], want) {
				t.Fatalf("masked column %d: %#v, want %#v", i, masked[i], want)
			}
		}
		prefixed := appendRow([]byte("prefix"), vals)
		if string(prefixed[:6]) != "prefix" || string(prefixed[6:]) != string(enc) {
			t.Fatalf("appendRow after a prefix changed it")
		}
		row, err := DecodeValues(AppendValues(nil, vals), len(vals))
		if err != nil || !sameRow(row, vals) {
			t.Fatalf("DecodeValues: %#v (%v)", row, err)
		}
		// Table stats from the same bytes.
		if len(vals) >= 4 {
			st := tableStats{rows: vals[0].I, minTime: vals[1].I, maxTime: vals[2].I, hasTime: vals[3].I&1 == 1,
				nextRowID: int64(math.Float64bits(vals[0].F)), seq: uint64(vals[1].I) * 3, lastCommit: vals[3].I}
			if again, err := decodeStats(st.encode()); err != nil || again != st {
				t.Fatalf("stats %+v round-trip to %+v (%v)", st, again, err)
			}
		}
	})
}

func sameRow(a, b schema.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}
