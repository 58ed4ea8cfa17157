package tables_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// pingSensorCols is the shape of the demo's ping_sensor table.
var pingSensorCols = []schema.Column{
	{Name: "device_name", Type: schema.TypeString},
	{Name: "timestamp", Type: schema.TypeTimestamp},
	{Name: "value", Type: schema.TypeInt},
}

var devices = func() []schema.Value {
	out := make([]schema.Value, 100)
	for i := range out {
		out[i] = schema.Str(fmt.Sprintf("device-%04d", i))
	}
	return out
}()

// pingSensorFeed returns the records of offsets [from, from+n): one row per
// message, one message per millisecond from 2026-04-15.
func pingSensorFeed(from, n int64) tables.Feed {
	const start = 1776211200000000
	f := tables.Feed{Src: 1, Partition: 0, Next: from + n, Records: make([]tables.Record, n)}
	for i := range n {
		o := from + i
		f.Records[i] = tables.Record{Offset: o, Values: []schema.Value{
			devices[o%int64(len(devices))], schema.TimestampMicros(start + o*1000), schema.Int(o * 7919 % 1000),
		}}
	}
	return f
}

// BenchmarkApply commits feeds of 1000 ping_sensor rows, one synced batch
// each.
func BenchmarkApply(b *testing.B) {
	s, err := tables.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	tbl, err := s.EnsureTable("bench", "ping_sensor", pingSensorCols)
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	feeds := make([]tables.Feed, 64)
	for i := range feeds {
		feeds[i] = pingSensorFeed(0, rows)
	}
	i := 0
	for ; b.Loop(); i++ {
		// Shift the prepared feed's offsets rather than building records
		// inside the timed loop.
		f := feeds[i%len(feeds)]
		base := int64(i) * rows
		for j := range f.Records {
			f.Records[j].Offset = base + int64(j)
		}
		f.Next = base + rows
		res, err := s.Apply(tbl, []tables.Feed{f})
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows != rows {
			b.Fatalf("wrote %d rows", res.Rows)
		}
	}
	b.ReportMetric(float64(i*rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkScan reads every column of 1 M ping_sensor rows.
func BenchmarkScan(b *testing.B) {
	s, err := tables.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	tbl, err := s.EnsureTable("bench", "ping_sensor", pingSensorCols)
	if err != nil {
		b.Fatal(err)
	}
	const total, per = 1_000_000, 10_000
	for from := int64(0); from < total; from += per {
		if _, err := s.Apply(tbl, []tables.Feed{pingSensorFeed(from, per)}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	n := 0
	for ; b.Loop(); n++ {
		it, err := s.Scan(ctx, tbl, tables.TimeRange{})
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		for it.Next() {
			sum += it.Row()[schema.NumSystemColumns+2].I
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		if it.Scanned() != total {
			b.Fatalf("scanned %d rows", it.Scanned())
		}
		_ = it.Close()
	}
	b.ReportMetric(float64(n)*total/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCreateTables creates 10,000 tables (as a `bring` table name may)
// on a real dir and reports the time per table of the first and of the
// last thousand: with a per-table cost independent of the tables there
// are, the two are alike.
func BenchmarkCreateTables(b *testing.B) {
	const n = 10000
	cols := []schema.Column{{Name: "v", Type: schema.TypeInt}}
	for b.Loop() {
		s, err := tables.Open(b.TempDir(), tables.WithCacheSize(8<<20))
		if err != nil {
			b.Fatal(err)
		}
		var first, last time.Duration
		start := time.Now()
		for i := range n {
			t0 := time.Now()
			if _, err := s.EnsureTable("bench", fmt.Sprintf("t%05d", i), cols); err != nil {
				b.Fatal(err)
			}
			switch {
			case i < 1000:
				first += time.Since(t0)
			case i >= n-1000:
				last += time.Since(t0)
			}
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/10k-tables")
		b.ReportMetric(float64(first.Microseconds())/1000, "µs/table-first-1k")
		b.ReportMetric(float64(last.Microseconds())/1000, "µs/table-last-1k")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal: the CPU a seal pass spends per row (read, decode,
// encode, write the block, delete the rows), 500,000 rows of the
// ping_sensor shape at a time.
func BenchmarkSeal(b *testing.B) {
	const n = 500_000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		s, err := tables.Open(b.TempDir(), tables.WithCacheSize(64<<20))
		if err != nil {
			b.Fatal(err)
		}
		t, _ := s.EnsureTable("bench", "ping_sensor", pingSensorCols)
		for from := int64(0); from < n; from += 10_000 {
			if _, err := s.Apply(t, []tables.Feed{pingSensorFeed(from, 10_000)}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := s.Seal(context.Background(), t, time.Now().Add(time.Hour).UnixMicro())
		total += time.Since(t0)
		if err != nil || res.Rows != n {
			b.Fatalf("sealed %d rows (%v)", res.Rows, err)
		}
		b.StopTimer()
		_ = s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(n*b.N), "ns/row")
}
