package tables

import (
	"errors"
	"math"
	"testing"

	"github.com/lakenode/lakenode/tables/schema"
)

// sameValue compares two values, floats by their bits (NaN, -0).
func sameValue(a, b schema.Value) bool {
	if a.Type == schema.TypeFloat && b.Type == schema.TypeFloat {
		return math.Float64bits(a.F) == math.Float64bits(b.F)
	}
	return a == b
}

func TestRowCodecRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		vals []schema.Value
	}{
		{"empty", nil},
		{"null", []schema.Value{schema.Null}},
		{"ints", []schema.Value{schema.Int(0), schema.Int(1), schema.Int(-1), schema.Int(math.MaxInt64), schema.Int(math.MinInt64)}},
		{"floats", []schema.Value{schema.Float(0), schema.Float(math.Copysign(0, -1)), schema.Float(3.56), schema.Float(-1e-300),
			schema.Float(math.Inf(1)), schema.Float(math.Inf(-1)), schema.Float(math.NaN())}},
		{"timestamps", []schema.Value{schema.TimestampMicros(0), schema.TimestampMicros(1776294106223456), schema.TimestampMicros(-1)}},
		{"bools", []schema.Value{schema.Bool(true), schema.Bool(false)}},
		{"strings", []schema.Value{schema.Str(""), schema.Str("ping"), schema.Str(`O'Brien "q" C:\\new — é 漢字 🎉`),
			schema.Str(string([]byte{0xff, 0x00, 0xfe, 0xc3})), schema.Str(string(make([]byte, 300)))}},
		{"mixed with nulls", []schema.Value{schema.Int(7), schema.Null, schema.Str("x"), schema.Null, schema.Float(2.5), schema.TimestampMicros(9), schema.Bool(true)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := appendRow(nil, c.vals)
			got := make(schema.Row, len(c.vals))
			if err := decodeRowMask(enc, got, nil); err != nil {
				t.Fatal(err)
			}
			for i := range c.vals {
				if !sameValue(got[i], c.vals[i]) {
					t.Errorf("value %d: got %#v want %#v", i, got[i], c.vals[i])
				}
			}
			// The exported pair used between nodes is the same codec.
			row, err := DecodeValues(AppendValues(nil, c.vals), len(c.vals))
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.vals {
				if !sameValue(row[i], c.vals[i]) {
					t.Errorf("DecodeValues %d: got %#v want %#v", i, row[i], c.vals[i])
				}
			}
		})
	}
}

func TestDecodeOlderRowHasTrailingNulls(t *testing.T) {
	enc := appendRow(nil, []schema.Value{schema.Int(1), schema.Str("a")})
	dst := schema.Row{schema.Int(99), schema.Int(99), schema.Int(99), schema.Str("stale")}
	if err := decodeRowMask(enc, dst, nil); err != nil {
		t.Fatal(err)
	}
	want := schema.Row{schema.Int(1), schema.Str("a"), schema.Null, schema.Null}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("column %d: got %#v want %#v", i, dst[i], want[i])
		}
	}
}

func TestDecodeMaskSkipsUnneededStrings(t *testing.T) {
	enc := appendRow(nil, []schema.Value{schema.Str("skip me"), schema.Int(5), schema.Str("keep")})
	dst := make(schema.Row, 3)
	if err := decodeRowMask(enc, dst, []bool{false, true, true}); err != nil {
		t.Fatal(err)
	}
	if !dst[0].IsNull() || dst[1] != schema.Int(5) || dst[2] != schema.Str("keep") {
		t.Fatalf("got %#v", dst)
	}
}

func TestDecodeCorruptRows(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
	}{
		{"truncated varint", []byte{tagInt, 0x80}},
		{"short float", []byte{tagFloat, 1, 2, 3}},
		{"string past the end", []byte{tagStr, 10, 'a'}},
		{"bad string length", []byte{tagStr, 0x80}},
		{"unknown tag", []byte{42}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := decodeRowMask(c.b, make(schema.Row, 2), nil)
			if !errors.Is(err, errCorruptRow) {
				t.Fatalf("got %v, want a corrupt row error", err)
			}
		})
	}
}

// Decoding numbers, timestamps, bools and NULLs allocates nothing: it is the
// scan hot path.
func TestDecodeDoesNotAllocateForNumbers(t *testing.T) {
	enc := appendRow(nil, []schema.Value{schema.Int(1), schema.TimestampMicros(1776294106223456), schema.Null,
		schema.Float(493.7), schema.Bool(true), schema.Int(-12345)})
	dst := make(schema.Row, 6)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := decodeRowMask(enc, dst, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per decode", allocs)
	}
}

// FuzzRowDecode: arbitrary bytes never panic the decoder, and whatever
// decodes re-encodes to a value list that decodes the same.
func FuzzRowDecode(f *testing.F) {
	f.Add(appendRow(nil, []schema.Value{schema.Int(1), schema.Str("é"), schema.Float(1.5), schema.Null, schema.TimestampMicros(-3), schema.Bool(true)}))
	f.Add([]byte{tagStr, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{tagFloat, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := make(schema.Row, 8)
		if err := decodeRowMask(b, dst, nil); err != nil {
			return
		}
		again := make(schema.Row, 8)
		if err := decodeRowMask(appendRow(nil, dst), again, nil); err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
		for i := range dst {
			if !sameValue(dst[i], again[i]) {
				t.Fatalf("value %d: %#v then %#v", i, dst[i], again[i])
			}
		}
	})
}

// A string equal to the one the reused row already holds is not copied
// again.
func TestDecodeReusesEqualStrings(t *testing.T) {
	enc := appendRow(nil, []schema.Value{schema.Str("node-a"), schema.Int(3)})
	dst := make(schema.Row, 2)
	if err := decodeRowMask(enc, dst, nil); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := decodeRowMask(enc, dst, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || dst[0] != schema.Str("node-a") {
		t.Fatalf("%v allocations, value %#v", allocs, dst[0])
	}
	other := appendRow(nil, []schema.Value{schema.Str("node-b")})
	if err := decodeRowMask(other, dst, nil); err != nil {
		t.Fatal(err)
	}
	if dst[0] != schema.Str("node-b") || !dst[1].IsNull() {
		t.Fatalf("after a different string: %#v", dst)
	}
}
