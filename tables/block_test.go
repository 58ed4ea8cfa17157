package tables

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

func sameCell(a, b schema.Value) bool {
	if a.Type != b.Type || a.I != b.I || a.S != b.S {
		return false
	}
	return math.Float64bits(a.F) == math.Float64bits(b.F)
}

// columnCases are columns of n values of every kind a block holds.
func columnCases(n int) map[string][]schema.Value {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(f func(i int) schema.Value) []schema.Value {
		out := make([]schema.Value, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := map[string][]schema.Value{
		"all NULL":     gen(func(int) schema.Value { return schema.Null }),
		"constant int": gen(func(int) schema.Value { return schema.Int(7) }),
		"counter":      gen(func(i int) schema.Value { return schema.Int(int64(i) + 1) }),
		"random ints":  gen(func(int) schema.Value { return schema.Int(r.Int64N(1000) - 500) }),
		"extreme ints": gen(func(i int) schema.Value { return schema.Int([]int64{math.MinInt64, math.MaxInt64, 0, -1}[i%4]) }),
		"1 Hz timestamps": gen(func(i int) schema.Value {
			return schema.TimestampMicros(1_800_000_000_000_000 + int64(i)*1_000_000 + r.Int64N(3))
		}),
		"ints with NULLs": gen(func(i int) schema.Value {
			if i%7 == 0 {
				return schema.Null
			}
			return schema.Int(int64(i * i))
		}),
		"bools":         gen(func(i int) schema.Value { return schema.Bool(i%3 == 0) }),
		"random floats": gen(func(int) schema.Value { return schema.Float(r.Float64() * 1000) }),
		"whole floats":  gen(func(i int) schema.Value { return schema.Float(float64(i % 100)) }),
		"special floats": gen(func(i int) schema.Value {
			return schema.Float([]float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300}[i%6])
		}),
		"constant float": gen(func(int) schema.Value { return schema.Float(2.5) }),
		"devices": gen(func(int) schema.Value {
			return schema.Str([]string{"", "dev-1", "dev-2", "ünïcode", "a\x00b"}[r.IntN(5)])
		}),
		// The same length and last eight bytes: one slot of the
		// builder's code cache, which must not mistake one for the other.
		"same tails": gen(func(int) schema.Value {
			return schema.Str([]string{"a-device-0001", "b-device-0001", "c-device-0001", "device-0001"}[r.IntN(4)])
		}),
		"many devices": gen(func(i int) schema.Value { return schema.Str(fmt.Sprintf("device-%04d", (i*7919)%3000)) }),
		"strings with NULLs": gen(func(i int) schema.Value {
			if i%2 == 0 {
				return schema.Null
			}
			return schema.Str("x")
		}),
		"mixed types": gen(func(i int) schema.Value {
			return []schema.Value{schema.Int(1), schema.Str("s"), schema.Null, schema.Float(1.5)}[i%4]
		}),
		"NULLs then floats": gen(func(i int) schema.Value {
			if i < n/2 {
				return schema.Null
			}
			return schema.Float(float64(i) / 4)
		}),
		"ints then a string": gen(func(i int) schema.Value {
			switch {
			case i == n-1:
				return schema.Str("late")
			case i%5 == 0:
				return schema.Null
			}
			return schema.Int(int64(i))
		}),
		"ints then timestamps": gen(func(i int) schema.Value {
			if i >= 2 {
				return schema.TimestampMicros(int64(i))
			}
			return schema.Int(int64(i))
		}),
	}
	return cases
}

func TestColumnEncodingsRoundTrip(t *testing.T) {
	n := 5000
	cases := columnCases(n)
	for name, vals := range cases {
		t.Run(name, func(t *testing.T) {
			for _, m := range []int{1, 2, 3, 64, n} {
				enc := encodeColumn(nil, vals[:m])
				v, err := decodeColumn(enc, m)
				if err != nil {
					t.Fatalf("%d rows: %v", m, err)
				}
				for i := range m {
					if got := v.Value(i); !sameCell(got, vals[i]) {
						t.Fatalf("%d rows: row %d = %#v, want %#v", m, i, got, vals[i])
					}
				}
			}
		})
	}
}

func TestIntEncodingsPickTheSmallest(t *testing.T) {
	ts := make([]int64, BlockRows)
	for i := range ts {
		ts[i] = 1_800_000_000_000_000 + int64(i)*1_000_000
	}
	if got := appendInts(nil, ts); got[0] != intDoD || len(got) > 32 {
		t.Fatalf("1 Hz timestamps: encoding %d, %d bytes; want delta of delta in a few bytes", got[0], len(got))
	}
	small := make([]int64, BlockRows)
	for i := range small {
		small[i] = int64(i % 1000)
	}
	if got := appendInts(nil, small); got[0] != intFOR || len(got) > BlockRows*10/8+16 {
		t.Fatalf("values below 1000: encoding %d, %d bytes; want 10 bits a value", got[0], len(got))
	}
}

func TestCorruptColumnsAreErrors(t *testing.T) {
	vals := []schema.Value{schema.Str("a"), schema.Str("b"), schema.Int(3), schema.Null}
	for _, enc := range [][]byte{
		encodeColumn(nil, vals[:2]),
		encodeColumn(nil, []schema.Value{schema.Int(1), schema.Int(1000), schema.Int(5)}),
		encodeColumn(nil, []schema.Value{schema.Float(1.5), schema.Float(2.5)}),
	} {
		for cut := range len(enc) {
			if _, err := decodeColumn(enc[:cut], 2); err == nil && cut < len(enc)-1 {
				// A cut inside the packed values may still decode to
				// values (missing bits read as zero) only at the last
				// byte; anything shorter must fail.
				t.Errorf("%x cut at %d decoded without error", enc, cut)
			}
		}
	}
}

func FuzzDecodeColumn(f *testing.F) {
	f.Add(encodeColumn(nil, []schema.Value{schema.Str("a"), schema.Null}), 2)
	f.Add(encodeColumn(nil, []schema.Value{schema.Int(1), schema.Int(9), schema.Int(4)}), 3)
	f.Add(encodeColumn(nil, []schema.Value{schema.Float(1.5), schema.Float(2)}), 2)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 4096 {
			return
		}
		v, err := decodeColumn(b, n)
		if err != nil {
			return
		}
		for i := range n {
			_ = v.Value(i)
		}
	})
}

func TestHeaderRoundTrip(t *testing.T) {
	b := newBlockBuilder(5)
	row := schema.Row{schema.Int(1), schema.TimestampMicros(5), schema.Str("n"), schema.Int(9), schema.Float(0.5)}
	for i := range 10 {
		row[0] = schema.Int(int64(i))
		b.add(rowKey{time: int64(100 + i), src: 2, partition: 1, offset: int64(i)}, appendRowKey(nil, 1, int64(100+i), 2, 1, int64(i), 0), row)
	}
	h, _ := b.finish(42)
	got, err := decodeHeader(h.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 42 || got.Rows != 10 || got.MinTime != 100 || got.MaxTime != 109 || got.first != h.first || got.MinSeq != 9 || got.MaxSeq != 9 {
		t.Fatalf("header %+v, want %+v", got, h)
	}
	if c := got.Cols[0]; !c.HasMinMax || c.Min.I != 0 || c.Max.I != 9 || !c.HasSum || c.SumI != 45 {
		t.Fatalf("row_id stats %+v", c)
	}
	if c := got.Cols[4]; !c.HasMinMax || c.Min.F != 0.5 || !c.HasSum || !c.IsFloat || c.SumF != 5 {
		t.Fatalf("value stats %+v", c)
	}
	if c := got.Cols[2]; !c.HasMinMax || c.Min.S != "n" || c.HasSum {
		t.Fatalf("tsd_name stats %+v", c)
	}
	for cut := range len(h.encode()) {
		if _, err := decodeHeader(h.encode()[:cut]); err == nil {
			t.Fatalf("a header cut at %d decoded", cut)
		}
	}
}

// spanOf is the span of rows of one partition at time tm, offsets [from, to].
func spanOf(seq uint64, at int64, partition int32, tm, from, to int64) commitSpan {
	c := commitSpan{seq: seq, at: at}
	copy(c.lo[:], appendRowKey(nil, 1, tm, 1, partition, from, 0))
	copy(c.hi[:], appendRowKey(nil, 1, tm, 1, partition, to, 0))
	return c
}

func TestPendingCommitsStayBounded(t *testing.T) {
	// 25,000 commits of four partitions each, every row at one time (the
	// ingest benchmark's shape): merged spans stay within a partition.
	var spans []commitSpan
	for i := range int64(25_000) {
		for p := range int32(4) {
			spans = appendSpan(spans, spanOf(uint64(i+1), i, p, 7, i*10, i*10+9))
		}
	}
	if len(spans) > maxSpans {
		t.Fatalf("%d spans kept, at most %d", len(spans), maxSpans)
	}
	byPart := map[int32][]commitSpan{}
	for _, c := range spans {
		lo, _ := decodeRowKey(c.lo[:])
		hi, _ := decodeRowKey(c.hi[:])
		if lo.partition != hi.partition {
			t.Fatalf("span %+v..%+v crosses partitions", lo, hi)
		}
		byPart[lo.partition] = append(byPart[lo.partition], c)
	}
	for p, ps := range byPart {
		// Together they still cover every commit, none made older.
		next := int64(0)
		for _, c := range ps {
			lo, _ := decodeRowKey(c.lo[:])
			hi, _ := decodeRowKey(c.hi[:])
			if lo.offset != next {
				t.Fatalf("partition %d: span from %d, want %d (a gap or an overlap)", p, lo.offset, next)
			}
			if c.at != hi.offset/10 || c.seq != uint64(c.at+1) {
				t.Fatalf("partition %d: span to %d at %d seq %d: not as late as its newest commit", p, hi.offset, c.at, c.seq)
			}
			next = hi.offset + 1
		}
		if next != 250_000 {
			t.Fatalf("partition %d: spans end at %d", p, next)
		}
	}
}

func TestPendingCommitsStayDueOnTime(t *testing.T) {
	// A seal pass takes the spans committed before its cutoff, and a
	// merged span counts as committed at its newest commit: merging must
	// not make old rows wait. Four partitions commit every 10 ms for 5
	// minutes (the soak's rate of commits at 150,000 msgs/s), sealing 60 s
	// after commit every 15 s as they go (the spans a pass took are
	// dropped, as Seal does). At every pass no pending span may hold a
	// commit more than a second past the cutoff; merging pairs, the oldest
	// again at each overflow, held some back for almost four minutes.
	const every, after = int64(10_000), int64(60_000_000) // µs
	var spans []commitSpan
	var worst int64
	for i := range int64(30_000) {
		now := i * every
		for p := range int32(4) {
			spans = appendSpan(spans, spanOf(uint64(i+1), now, p, 7, i*10, i*10+9))
		}
		if i%1500 != 0 { // a pass every 15 s
			continue
		}
		cutoff := now - after
		for _, c := range spans {
			lo, _ := decodeRowKey(c.lo[:])
			if oldest := lo.offset / 10 * every; c.at >= cutoff && oldest < cutoff {
				worst = max(worst, cutoff-oldest)
			}
		}
		spans = slices.DeleteFunc(spans, func(c commitSpan) bool { return c.at < cutoff })
	}
	if worst > 1_000_000 {
		t.Fatalf("a commit waited %v past its cutoff in a merged span", time.Duration(worst)*time.Microsecond)
	}
}

func TestPlanDeletes(t *testing.T) {
	// A block of rows at offsets 0..99 of partition 0 and 0..99 of
	// partition 1, all at one time, in one run unless the case cuts it.
	key := func(p int32, off int64) []byte { return appendRowKey(nil, 1, 7, 1, p, off, 0) }
	iv := func(p int32, from, to int64) [2][]byte { return [2][]byte{key(p, from), key(p, to)} }
	newBlock := func(cuts ...int) *blockBuilder {
		b := newBlockBuilder(schema.NumSystemColumns)
		row := make(schema.Row, schema.NumSystemColumns)
		for p := range int32(2) {
			for off := range int64(100) {
				if slices.Contains(cuts, int(p)*100+int(off)) {
					b.breakRun()
				}
				k := key(p, off)
				rk, _ := decodeRowKey(k)
				b.add(rk, k, row)
			}
		}
		return b
	}
	for _, c := range []struct {
		name    string
		cuts    []int
		foreign [][2][]byte
		want    []deleteRun
	}{
		{"nothing else", nil, nil, []deleteRun{{0, 199, true}}},
		{"others before and after", nil, [][2][]byte{iv(0, -10, -1), iv(2, 0, 5)}, []deleteRun{{0, 199, true}}},
		{"a later commit of partition 0", nil, [][2][]byte{iv(0, 100, 150)}, []deleteRun{{0, 99, true}, {100, 199, true}}},
		{"rows inside", nil, [][2][]byte{iv(0, 40, 44)}, []deleteRun{{0, 39, true}, {40, 44, false}, {45, 199, true}}},
		{"a short stretch", nil, [][2][]byte{iv(0, 5, 5), iv(1, 0, 98)}, []deleteRun{{0, 4, false}, {5, 5, false}, {6, 99, true}, {100, 198, false}, {199, 199, false}}},
		{"an interval over two runs", []int{150}, [][2][]byte{iv(1, 40, 60)}, []deleteRun{{0, 139, true}, {140, 149, false}, {150, 160, false}, {161, 199, true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := planDeletes(newBlock(c.cuts...), mergeIntervals(c.foreign), 20)
			if !slices.Equal(got, c.want) {
				t.Fatalf("plan %v, want %v", got, c.want)
			}
		})
	}
}

// A block's last range delete ends at the key the pass read after the
// block (so that successive blocks' deletes abut) unless a foreign
// interval lies between, where a commit since may have written.
func TestRangeEnd(t *testing.T) {
	key := func(off int64) []byte { return appendRowKey(nil, 1, 7, 1, 0, off, 0) }
	after := func(k []byte) []byte { return append(bytes.Clone(k), 0) }
	b := newBlockBuilder(schema.NumSystemColumns)
	row := make(schema.Row, schema.NumSystemColumns)
	for off := range int64(10) {
		k := key(off * 10) // rows at offsets 0, 10, ..., 90
		rk, _ := decodeRowKey(k)
		b.add(rk, k, row)
	}
	whole, first := deleteRun{from: 0, to: 9, ranged: true}, deleteRun{from: 0, to: 4, ranged: true}
	iv := func(from, to int64) [2][]byte { return [2][]byte{key(from), key(to)} }
	for _, c := range []struct {
		name    string
		tail    []byte
		d       deleteRun
		foreign [][2][]byte
		want    []byte
	}{
		{"no tail", nil, whole, nil, after(key(90))},
		{"tail", key(100), whole, nil, key(100)},
		{"a run that does not end the block", key(100), first, nil, after(key(40))},
		{"foreign rows in the gap", key(100), whole, [][2][]byte{iv(95, 96)}, after(key(90))},
		{"a foreign interval over the gap", key(100), whole, [][2][]byte{iv(50, 200)}, after(key(90))},
		{"foreign intervals before and at the tail", key(100), whole, [][2][]byte{iv(20, 30), iv(100, 120)}, key(100)},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.tail = c.tail
			if got := rangeEnd(b, c.d, mergeIntervals(c.foreign)); !bytes.Equal(got, c.want) {
				t.Fatalf("end %x, want %x", got, c.want)
			}
		})
	}
}

// TestColBuilderMatchesReference: a column gathered by colBuilder — value
// by value, or decoded from stored rows as a seal does — encodes and
// summarises exactly as encodeColumn and columnStats do, and decodes back.
func TestColBuilderMatchesReference(t *testing.T) {
	n := 5000
	for name, vals := range columnCases(n) {
		t.Run(name, func(t *testing.T) {
			var byValue, byRow colBuilder
			for _, m := range []int{1, 2, 3, 64, n} {
				byValue.reset()
				byRow.reset()
				for _, v := range vals[:m] {
					byValue.addValue(v)
					cols := []colBuilder{byRow}
					if err := addRow(cols, appendRow(nil, []schema.Value{v})); err != nil {
						t.Fatal(err)
					}
					byRow = cols[0]
				}
				want, wantStats := encodeColumn(nil, vals[:m]), columnStats(vals[:m])
				for how, c := range map[string]*colBuilder{"by value": &byValue, "by row": &byRow} {
					if got := c.encode(nil); !slices.Equal(got, want) {
						t.Fatalf("%d rows %s: encoding differs from the reference", m, how)
					}
					if got := c.stats(); !sameStats(got, wantStats) {
						t.Fatalf("%d rows %s: stats %+v, want %+v", m, how, got, wantStats)
					}
				}
			}
		})
	}
}

func sameStats(a, b ColumnStats) bool {
	return a.Nulls == b.Nulls && a.HasMinMax == b.HasMinMax && sameCell(a.Min, b.Min) && sameCell(a.Max, b.Max) &&
		a.SumI == b.SumI && math.Float64bits(a.SumF) == math.Float64bits(b.SumF) && a.IsFloat == b.IsFloat && a.HasSum == b.HasSum
}

// A stored row shorter than the table gets NULLs; a corrupt one is an error.
func TestAddRowPadsAndRefusesCorruptRows(t *testing.T) {
	cols := make([]colBuilder, 3)
	if err := addRow(cols, appendRow(nil, []schema.Value{schema.Int(1)})); err != nil {
		t.Fatal(err)
	}
	if cols[1].nulls != 1 || cols[2].nulls != 1 || cols[0].value(0).I != 1 {
		t.Fatalf("short row: %+v", cols)
	}
	for _, bad := range [][]byte{{tagInt}, {tagFloat, 1, 2}, {tagStr, 5, 'a'}, {99}} {
		if err := addRow(make([]colBuilder, 1), bad); err == nil {
			t.Fatalf("row %v decoded", bad)
		}
	}
}

// finish reuses its buffers between blocks: each body is the reference
// layout of its own rows (encodeBody of encodeColumn's and appendInts'
// columns), the second not mixed with the first.
func TestFinishBodiesMatchTheReferenceAcrossBlocks(t *testing.T) {
	b := newBlockBuilder(5)
	for blk, rows := range []int{300, 7} {
		b.reset()
		var keys [keyCols][]int64
		vals := make([][]schema.Value, 5)
		for i := range rows {
			tm := int64(1000*blk + 3*i)
			row := schema.Row{schema.Int(int64(i)), schema.TimestampMicros(tm), schema.Str(fmt.Sprintf("d%d", i%(blk+3))), schema.Int(int64(blk)), schema.Float(float64(i) / 4)}
			if i%5 == 0 {
				row[4] = schema.Null
			}
			b.add(rowKey{time: tm, src: 2, partition: 1, offset: int64(i)}, appendRowKey(nil, 1, tm, 2, 1, int64(i), 0), row)
			for c, v := range []int64{tm, 2, 1, int64(i), 0} {
				keys[c] = append(keys[c], v)
			}
			for c := range row {
				vals[c] = append(vals[c], row[c])
			}
		}
		var cols [][]byte
		for _, k := range keys {
			cols = append(cols, appendInts(nil, k))
		}
		for _, v := range vals {
			cols = append(cols, encodeColumn(nil, v))
		}
		_, body := b.finish(uint64(blk + 1))
		if want := encodeBody(cols); !bytes.Equal(body, want) {
			t.Fatalf("block %d: body of %d bytes differs from the reference's %d", blk, len(body), len(want))
		}
	}
}
