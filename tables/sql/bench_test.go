package sql_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// BenchmarkQuery (`make bench`): N rows of the ingest workload in one table
// (10 M by default; LAKENODE_BENCH_ROWS=N), timestamps spread over the last
// two days so that the last day holds about half. For each query it reports
// lakenode's rows/s, a bare Pebble iteration over the same keys (the
// ceiling) and SQLite on the same rows with an index on the timestamp.
func BenchmarkQuery(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("LAKENODE_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := b.TempDir()
	s, err := tables.Open(filepath.Join(dir, "lakenode"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	t, err := s.EnsureTable("bench", "ping_sensor", cols)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "sqlite.db")+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.Exec(`create table ping_sensor (device_name text, timestamp integer, value integer)`); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	span := int64(48 * time.Hour / time.Microsecond)
	start := now.UnixMicro() - span
	t0 := time.Now()
	tx, _ := db.Begin()
	ins, _ := tx.Prepare(`insert into ping_sensor values (?, ?, ?)`)
	const batch = 10_000
	for base := 0; base < n; base += batch {
		f := tables.Feed{Src: 1, Partition: 0, Next: int64(base + batch)}
		for i := base; i < min(base+batch, n); i++ {
			ts := start + int64(i)*span/int64(n)
			dev := "device-" + strconv.Itoa(i%1000)
			v := int64(i % 997)
			f.Records = append(f.Records, tables.Record{Offset: int64(i), Values: []schema.Value{schema.Str(dev), schema.TimestampMicros(ts), schema.Int(v)}})
			if _, err := ins.Exec(dev, ts, v); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Apply(t, []tables.Feed{f}); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`create index ping_sensor_timestamp_index on ping_sensor(timestamp)`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows into lakenode and SQLite in %v", n, time.Since(t0).Round(time.Millisecond))
	dayAgo := now.Add(-24 * time.Hour).UnixMicro()
	queries := []struct {
		name, lq, sq string
	}{
		{"aggregate_1day",
			"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day",
			"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > ?"},
		{"groupby_top10",
			"select device_name, count(*), avg(value) from ping_sensor where timestamp > now() - 1 day group by device_name order by 3 desc, 1 limit 10",
			"select device_name, count(*), avg(value) from ping_sensor where timestamp > ? group by device_name order by 3 desc, 1 limit 10"},
	}
	ctx := context.Background()
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var scanned int64
			var lakeDur, rawDur, sqliteDur time.Duration
			for range b.N {
				t1 := time.Now()
				res, err := lsql.Query(ctx, s, "bench", q.lq, lsql.Options{Now: now})
				if err != nil {
					b.Fatal(err)
				}
				lakeDur += time.Since(t1)
				scanned = res.Scanned
				t2 := time.Now()
				if _, err := s.CountKeys(ctx, t, tables.TimeRange{From: dayAgo + 1, HasFrom: true}); err != nil {
					b.Fatal(err)
				}
				rawDur += time.Since(t2)
				t3 := time.Now()
				rows, err := db.Query(q.sq, dayAgo)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				_ = rows.Close()
				sqliteDur += time.Since(t3)
			}
			per := func(d time.Duration) float64 { return float64(scanned) * float64(b.N) / d.Seconds() }
			b.ReportMetric(per(lakeDur), "lakenode_rows/s")
			b.ReportMetric(per(rawDur), "bare_pebble_rows/s")
			b.ReportMetric(per(sqliteDur), "sqlite_rows/s")
			b.ReportMetric(per(lakeDur)/per(rawDur), "of_bare")
			b.ReportMetric(per(lakeDur)/per(sqliteDur), "x_sqlite")
			b.ReportMetric(float64(lakeDur.Milliseconds())/float64(b.N), "lakenode_ms/query")
			fmt.Printf("%s over %d rows (%d in the day): lakenode %.0f rows/s (%.0f ms), bare Pebble iteration %.0f rows/s, SQLite %.0f rows/s (%.0f ms); %.2f of bare, %.1fx SQLite\n",
				q.name, n, scanned, per(lakeDur), float64(lakeDur.Milliseconds())/float64(b.N), per(rawDur), per(sqliteDur),
				float64(sqliteDur.Milliseconds())/float64(b.N), per(lakeDur)/per(rawDur), per(lakeDur)/per(sqliteDur))
		})
	}
}
