package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPostgres (`make bench`): the PostgreSQL endpoint against the
// REST port of the same node, on 1 M rows over two days
// (LAKENODE_BENCH_PG_ROWS=N). A one-row query and the 1-day aggregate run
// 100 times each way, alternating, and report the medians and what the
// wire adds; then the whole table streams to a pgx client (binary
// results) and, in the same run, to a file with format = csv, rows/s each.
func BenchmarkPostgres(b *testing.B) {
	n := envInt(b, "LAKENODE_BENCH_PG_ROWS", 1_000_000)
	now := time.Now()
	dir := b.TempDir()
	writeRows(b, dir, n, 0, n, now)
	pg := freeAddr(b)
	node := startNode(b, "pg-bench", dir, "", "--pg", pg)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://bench@"+pg+"/bench?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)

	// writeRows puts row i at start + i*span/n.
	span := int64(48 * time.Hour / time.Microsecond)
	mid := time.UnixMicro(now.UnixMicro() - span + int64(n/2)*span/int64(n)).UTC().Format("2006-01-02 15:04:05.000000")
	cut := now.Add(-24 * time.Hour).UTC().Format("2006-01-02 15:04:05")
	queries := []struct{ name, sql string }{
		{"one-row", "select device_name, timestamp, value from ping_sensor where timestamp = '" + mid + "' limit 1"},
		{"1-day", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > '" + cut + "'"},
	}
	const runs = 100
	for range b.N {
		for _, q := range queries {
			var rest, wire []time.Duration
			for r := 0; r <= runs; r++ { // run 0 warms the caches
				t0 := time.Now()
				body := node.mustExec(`sql bench format = json and stat = false "` + q.sql + `"`)
				d0 := time.Since(t0)
				t1 := time.Now()
				rs, err := c.Query(ctx, q.sql)
				if err != nil {
					b.Fatal(err)
				}
				rows, err := pgx.CollectRows(rs, pgx.RowToMap)
				d1 := time.Since(t1)
				if err != nil || len(rows) != 1 || !strings.Contains(body, `"Query"`) {
					b.Fatalf("%s: wire %v %v, rest %s", q.name, rows, err, body)
				}
				if r > 0 {
					rest, wire = append(rest, d0), append(wire, d1)
				}
			}
			mr, mw := median(rest), median(wire)
			b.ReportMetric(float64(mr.Microseconds())/1000, "rest_ms/"+q.name)
			b.ReportMetric(float64(mw.Microseconds())/1000, "wire_ms/"+q.name)
			b.ReportMetric(float64((mw-mr).Microseconds())/1000, "wire_minus_rest_ms/"+q.name)
			fmt.Printf("%s over %d rows, median of %d: REST %v, PostgreSQL wire %v (%+.3f ms)\n", q.name, n, runs, mr, mw, float64((mw-mr).Microseconds())/1000)
		}
		streamVsCSV(b, node, c, n)
	}
}

// streamVsCSV streams every row to pgx (binary) and to a csv file, three
// times each, alternating, and reports the median rates.
func streamVsCSV(b *testing.B, node *nodeProc, c *pgx.Conn, n int) {
	const all = "select device_name, timestamp, value from ping_sensor"
	var wire, file []time.Duration
	for range 3 {
		t0 := time.Now()
		rs, err := c.Query(context.Background(), all)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for rs.Next() {
			if _, err := rs.Values(); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if err := rs.Err(); err != nil || got != n {
			b.Fatalf("streamed %d of %d rows: %v", got, n, err)
		}
		wire = append(wire, time.Since(t0))
		t1 := time.Now()
		body := node.mustExec(`sql bench format = csv and dest = file and file = all.csv "` + all + `"`)
		if !strings.Contains(body, fmt.Sprintf("%d rows written", n)) {
			b.Fatalf("csv file: %s", body)
		}
		file = append(file, time.Since(t1))
	}
	ws, fs := float64(n)/median(wire).Seconds(), float64(n)/median(file).Seconds()
	b.ReportMetric(ws, "wire_stream_rows/s")
	b.ReportMetric(fs, "csv_file_rows/s")
	b.ReportMetric(ws/fs, "wire_of_csv_file")
	fmt.Printf("%d rows: pgx binary stream %.0f rows/s, format = csv to a file %.0f rows/s (%.2fx)\n", n, ws, fs, ws/fs)
}
