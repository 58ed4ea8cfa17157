package tables

import (
	"fmt"

	"encoding/binary"
	"github.com/lakenode/lakenode/tables/schema"
	"math"
	"testing"
)

func TestVarintMatchesBinary(t *testing.T) {
	vals := []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 20), 1 << 48, 1<<55 - 1, 1 << 55, 1 << 62, math.MaxInt64, math.MinInt64, 1_765_000_000_000_000}
	for _, v := range vals {
		for pad := range 10 { // with and without bytes after it
			b := binary.AppendVarint(nil, v)
			b = append(b, make([]byte, pad)...)
			got, n := varint(b)
			want, wn := binary.Varint(b)
			if got != want || n != wn {
				t.Errorf("varint(%d, pad %d) = %d, %d; want %d, %d", v, pad, got, n, want, wn)
			}
		}
	}
}

func FuzzUvarint(f *testing.F) {
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, n := uvarint(b)
		want, wn := binary.Uvarint(b)
		if got != want || n != wn {
			t.Fatalf("uvarint(%x) = %d, %d; want %d, %d", b, got, n, want, wn)
		}
	})
}

// BenchmarkAddRow decodes stored rows shaped like the ingest benchmark's
// messages (system columns, five strings of which two take 1,000 values,
// a timestamp, a float, an int) into a block's column builders: the
// seal's per-row work after reading the row.
func BenchmarkAddRow(b *testing.B) {
	const n = 65_536
	now := int64(1_765_000_000_000_000)
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = appendRow(nil, []schema.Value{
			schema.Int(int64(i)), schema.TimestampMicros(now + int64(i)), schema.Str("bench.clean"), schema.Int(int64(i / 500)),
			schema.Str(fmt.Sprintf("device-%04d", i%1000)), schema.Str(fmt.Sprintf("127.0.%d.%d", i%250, i%200)), schema.Str("ms"),
			schema.TimestampMicros(now - 1000), schema.Float(float64(i%997) + 0.5), schema.Str("ok"), schema.Str(fmt.Sprintf("s-%d", i%7)), schema.Int(int64(i)),
		})
	}
	cols := make([]colBuilder, 12)
	b.ResetTimer()
	for range b.N {
		for i := range cols {
			cols[i].reset()
		}
		for _, r := range rows {
			if err := addRow(cols, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/row")
}
