package sql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// BenchmarkQuery (`make bench`): N rows of the ingest workload in one table
// (10 M by default; LAKENODE_BENCH_ROWS=N), timestamps spread over the last
// two days so that the last day holds about half, sealed into column
// blocks. For each query it reports lakenode's rows/s (rows in the queried
// range per second of wall time), its time on rows before sealing, and
// SQLite on the same rows with an index on the timestamp; and the bytes per
// row each keeps on disk.
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
	rng := rand.New(rand.NewPCG(1, 1))
	const batch = 10_000
	for base := 0; base < n; base += batch {
		f := tables.Feed{Src: 1, Partition: 0, Next: int64(base + batch)}
		for i := base; i < min(base+batch, n); i++ {
			ts := start + int64(i)*span/int64(n)
			// 1,000 devices reporting in no set order, values at random.
			dev := "device-" + strconv.Itoa(int(rng.Int64N(1000)))
			v := rng.Int64N(1000)
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
	// A time bound that cuts blocks: the filter must decode them.
	cut := now.Add(-6*time.Hour - 17*time.Second).UnixMicro()
	queries := []struct {
		name, lq, sq string
		args         []any
	}{
		{"aggregate_1day",
			"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day",
			"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > ?", []any{dayAgo}},
		{"aggregate_1day_value",
			fmt.Sprintf("select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day and timestamp < '%s' and value > 500", time.UnixMicro(cut).UTC().Format("2006-01-02 15:04:05.000000")),
			"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > ? and timestamp < ? and value > 500", []any{dayAgo, cut}},
		{"groupby_top10",
			"select device_name, count(*), avg(value) from ping_sensor where timestamp > now() - 1 day group by device_name order by 3 desc, 1 limit 10",
			"select device_name, count(*), avg(value) from ping_sensor where timestamp > ? group by device_name order by 3 desc, 1 limit 10", []any{dayAgo}},
	}
	ctx := context.Background()
	// Each query once on rows, before sealing: the figure sealing improves.
	rowsMs := map[string]float64{}
	for _, q := range queries {
		t1 := time.Now()
		if _, err := lsql.Query(ctx, s, "bench", q.lq, lsql.Options{Now: now}); err != nil {
			b.Fatal(err)
		}
		rowsMs[q.name] = float64(time.Since(t1).Microseconds()) / 1000
	}
	t2 := time.Now()
	res, err := s.Seal(ctx, t, now.Add(time.Hour).UnixMicro())
	if err != nil {
		b.Fatal(err)
	}
	sealTook := time.Since(t2)
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	lakeBytes := s.Stats(t).DiskBytes
	var sqliteBytes int64
	for _, f := range []string{"sqlite.db", "sqlite.db-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			sqliteBytes += fi.Size()
		}
	}
	fmt.Printf("sealed %d rows into %d blocks in %v (%.0f rows/s); on disk after compaction: lakenode %.1f bytes/row, SQLite %.1f bytes/row (%.2fx)\n",
		res.Rows, res.Blocks, sealTook.Round(time.Millisecond), float64(res.Rows)/sealTook.Seconds(),
		float64(lakeBytes)/float64(n), float64(sqliteBytes)/float64(n), float64(lakeBytes)/float64(sqliteBytes))
	b.ReportMetric(float64(lakeBytes)/float64(n), "lakenode_bytes/row")
	b.ReportMetric(float64(sqliteBytes)/float64(n), "sqlite_bytes/row")
	for _, q := range queries {
		// The rows in the queried range: count(*) of the same filter.
		var inRange int64
		where := q.sq[strings.Index(q.sq, " where "):]
		if i := strings.Index(where, " group by"); i >= 0 {
			where = where[:i]
		}
		if err := db.QueryRow("select count(*) from ping_sensor"+where, q.args...).Scan(&inRange); err != nil {
			b.Fatal(err)
		}
		b.Run(q.name, func(b *testing.B) {
			var lakeDur, sqliteDur time.Duration
			for range b.N {
				t1 := time.Now()
				if _, err := lsql.Query(ctx, s, "bench", q.lq, lsql.Options{Now: now}); err != nil {
					b.Fatal(err)
				}
				lakeDur += time.Since(t1)
				t3 := time.Now()
				rows, err := db.Query(q.sq, q.args...)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				_ = rows.Close()
				sqliteDur += time.Since(t3)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			per := func(d time.Duration) float64 { return float64(inRange) * float64(b.N) / d.Seconds() }
			b.ReportMetric(per(lakeDur), "lakenode_rows/s")
			b.ReportMetric(per(sqliteDur), "sqlite_rows/s")
			b.ReportMetric(per(lakeDur)/per(sqliteDur), "x_sqlite")
			b.ReportMetric(ms(lakeDur), "lakenode_ms/query")
			fmt.Printf("%s over %d rows (%d in range): lakenode %.0f rows/s (%.1f ms; %.1f ms on rows before sealing), SQLite %.0f rows/s (%.1f ms); %.1fx SQLite\n",
				q.name, n, inRange, per(lakeDur), ms(lakeDur), rowsMs[q.name], per(sqliteDur), ms(sqliteDur), per(lakeDur)/per(sqliteDur))
		})
	}
}

// BenchmarkQueryScale (`make bench`): how the 1-day aggregate (with and
// without a value filter that must decode) grows with the table: 1 M, 10 M
// and 100 M rows of the ingest workload over the last two days, generated
// straight into the store (not through Kafka) and sealed as the node's
// seal loop would, every 5 M rows. LAKENODE_BENCH_SCALE=1000000,10000000
// picks other sizes. (Times are spread in floating point: i·span overflows
// an int64 at 100 M rows.)
func BenchmarkQueryScale(b *testing.B) {
	sizes := []int{1_000_000, 10_000_000, 100_000_000}
	if v := os.Getenv("LAKENODE_BENCH_SCALE"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("LAKENODE_BENCH_SCALE: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	ctx := context.Background()
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, err := tables.Open(filepath.Join(b.TempDir(), "lakenode"), tables.WithCacheSize(256<<20))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			t, err := s.EnsureTable("bench", "ping_sensor", []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			span := int64(48 * time.Hour / time.Microsecond)
			start := now.UnixMicro() - span
			rng := rand.New(rand.NewPCG(1, 1))
			t0 := time.Now()
			const batch = 50_000
			for base := 0; base < n; base += batch {
				f := workloadFeed(rng, base, min(base+batch, n), n, start, span)
				if _, err := s.Apply(t, []tables.Feed{f}); err != nil {
					b.Fatal(err)
				}
				if (base+batch)%5_000_000 == 0 || base+batch >= n {
					if _, err := s.Seal(ctx, t, time.Now().Add(time.Hour).UnixMicro()); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Compact(ctx); err != nil {
				b.Fatal(err)
			}
			fmt.Printf("scale: %d rows generated, sealed and compacted in %v, %.1f bytes/row\n", n, time.Since(t0).Round(time.Second), float64(s.Stats(t).DiskBytes)/float64(n))
			cut := time.UnixMicro(now.Add(-6*time.Hour - 17*time.Second).UnixMicro()).UTC().Format("2006-01-02 15:04:05.000000")
			for _, q := range []struct{ name, sql string }{
				{"aggregate_1day", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day"},
				{"aggregate_1day_value", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day and timestamp < '" + cut + "' and value > 500"},
			} {
				m, res := medianQuery(b, s, q.sql, now)
				inRange := res.Rows[0][0].I
				b.ReportMetric(float64(m.Microseconds())/1000, q.name+"_ms")
				fmt.Printf("scale: %s over %d rows (%d matching): median of 5 %.1f ms\n", q.name, n, inRange, float64(m.Microseconds())/1000)
			}
		})
	}
}

// medianQuery runs query on s six times and returns the median time of
// the last five (the first warms the cache) and the last result.
func medianQuery(b *testing.B, s *tables.Store, query string, now time.Time) (time.Duration, *lsql.Result) {
	b.Helper()
	var durs []time.Duration
	var res *lsql.Result
	for r := 0; r <= 5; r++ {
		t1 := time.Now()
		var err error
		if res, err = lsql.Query(context.Background(), s, "bench", query, lsql.Options{Now: now}); err != nil {
			b.Fatal(err)
		}
		if r > 0 {
			durs = append(durs, time.Since(t1))
		}
	}
	slices.Sort(durs)
	return durs[len(durs)/2], res
}

// workloadFeed is rows [from, to) of n of the ingest workload generated
// straight into a store: a device of 1,000, a time spread evenly over
// [start, start+span) (in floating point: i·span overflows an int64 at
// 100 M rows), a value 0..999.
func workloadFeed(rng *rand.Rand, from, to, n int, start, span int64) tables.Feed {
	f := tables.Feed{Src: 1, Partition: 0, Next: int64(to)}
	for i := from; i < to; i++ {
		f.Records = append(f.Records, tables.Record{Offset: int64(i), Values: []schema.Value{
			schema.Str("device-" + strconv.Itoa(int(rng.Int64N(1000)))), schema.TimestampMicros(start + int64(float64(i)*float64(span)/float64(n))), schema.Int(rng.Int64N(1000)),
		}})
	}
	return f
}

// BenchmarkBlockSize (`make bench`): what the size of sealed blocks costs
// queries, and what merging small ones gives back. N rows (3 M;
// LAKENODE_BENCH_ROWS) of the ingest workload over the last two days,
// sealed a commit at a time as a node's seal loop seals them in steady
// state: blocks of 65,536 rows (full), 15,000 (1,000 rows/s with the
// default --seal-after) and 4,096 (a slow table), then the 4,096-row
// blocks merged (Store.MergeBlocks, as the seal loop runs it). Each query's
// median of 5 after a warm-up.
func BenchmarkBlockSize(b *testing.B) {
	n := 3_000_000
	if v, err := strconv.Atoi(os.Getenv("LAKENODE_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	now := time.Now()
	span := int64(48 * time.Hour / time.Microsecond)
	start := now.UnixMicro() - span
	cut := time.UnixMicro(now.Add(-6*time.Hour - 17*time.Second).UnixMicro()).UTC().Format("2006-01-02 15:04:05.000000")
	queries := []struct{ name, sql string }{
		{"aggregate_1day", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day"},
		{"aggregate_1day_value", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day and timestamp < '" + cut + "' and value > 500"},
		{"groupby_top10", "select device_name, count(*), avg(value) from ping_sensor where timestamp > now() - 1 day group by device_name order by 3 desc, 1 limit 10"},
	}
	for _, layout := range []struct {
		name   string
		per    int
		merged bool
	}{{"full", tables.BlockRows, false}, {"15000", 15_000, false}, {"4096", 4096, false}, {"4096_merged", 4096, true}} {
		b.Run(layout.name, func(b *testing.B) {
			s, err := tables.Open(filepath.Join(b.TempDir(), "lakenode"))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			t, err := s.EnsureTable("bench", "ping_sensor", []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			for base := 0; base < n; base += layout.per {
				if _, err := s.Apply(t, []tables.Feed{workloadFeed(rng, base, min(base+layout.per, n), n, start, span)}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Seal(ctx, t, time.Now().Add(time.Hour).UnixMicro()); err != nil {
					b.Fatal(err)
				}
			}
			t0 := time.Now()
			var merged tables.MergeResult
			for layout.merged {
				r, err := s.MergeBlocks(ctx, t)
				if err != nil {
					b.Fatal(err)
				}
				if r.Blocks == 0 {
					break
				}
				merged.Blocks += r.Blocks
				merged.Replaced += r.Replaced
				merged.Rows += r.Rows
			}
			mergeTook := time.Since(t0)
			if err := s.Compact(ctx); err != nil {
				b.Fatal(err)
			}
			rows, blocks, err := s.SealedRows(t)
			if err != nil || rows != int64(n) {
				b.Fatalf("%d rows sealed (%v), want %d", rows, err, n)
			}
			line := fmt.Sprintf("block size %-11s %d rows in %d blocks", layout.name, rows, blocks)
			if layout.merged {
				line += fmt.Sprintf(" (%d merged into %d in %v, %.2f µs per row merged)", merged.Replaced, merged.Blocks, mergeTook.Round(time.Millisecond), float64(mergeTook.Nanoseconds())/1000/float64(max(merged.Rows, 1)))
			}
			for _, q := range queries {
				m, _ := medianQuery(b, s, q.sql, now)
				b.ReportMetric(float64(m.Microseconds())/1000, q.name+"_ms")
				line += fmt.Sprintf("; %s %.1f ms", q.name, float64(m.Microseconds())/1000)
			}
			fmt.Println(line)
		})
	}
}
