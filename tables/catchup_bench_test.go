package tables_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// ingestCols is the shape of the integration suite's ingest workload
// (integration/bench_test.go, benchMessage): eight columns, every message
// at one timestamp.
var ingestCols = []schema.Column{
	{Name: "device_name", Type: schema.TypeString}, {Name: "ip", Type: schema.TypeString},
	{Name: "unit", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp},
	{Name: "value", Type: schema.TypeFloat}, {Name: "status", Type: schema.TypeString},
	{Name: "site", Type: schema.TypeString}, {Name: "seq", Type: schema.TypeInt},
}

// catchUpFeeds are commits of 4 partitions x perPart rows of ingestCols,
// built once; run shifts their offsets rather than building records in
// the measured loop.
func catchUpFeeds(commits, perPart int) [][]tables.Feed {
	ts := schema.TimestampMicros(time.Now().UnixMicro())
	out := make([][]tables.Feed, commits)
	for c := range out {
		out[c] = make([]tables.Feed, 4)
		for p := range 4 {
			f := tables.Feed{Src: 1, Partition: int32(p), Records: make([]tables.Record, perPart)}
			for j := range f.Records {
				o := int64(c*perPart + j)
				f.Records[j].Values = []schema.Value{
					schema.Str(fmt.Sprintf("device-%04d", o%1000)), schema.Str(fmt.Sprintf("127.0.%d.%d", o%250, o%200)),
					schema.Str("ms"), ts, schema.Float(float64(o%997) + float64(o%10000)/10000),
					schema.Str("ok"), schema.Str(fmt.Sprintf("s-%d", o%7)), schema.Int(o),
				}
			}
			out[c][p] = f
		}
	}
	return out
}

// processCPU is the process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("reading the process's CPU time: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The node's seal loop, restated (node/seal.go): a pass every quarter of
// --seal-after, at 5% of a core while ingest is behind and half a core
// after.
const (
	catchUpSealAfter   = time.Second
	catchUpShareBehind = 0.05
	catchUpShare       = 0.5
)

// catchUpRun applies rows rows to a fresh store as fast as it takes them,
// sealing or not, and returns the process's CPU per row until the store
// has settled: at least 90% of the rows sealed when sealing, then no flush
// or compaction for a second. Also the LSM's flushed and compacted bytes
// per row.
func catchUpRun(b *testing.B, feeds [][]tables.Feed, rows int, seal bool) (cpuPerRow time.Duration, lsmPerRow float64) {
	var behind atomic.Bool
	behind.Store(true)
	s, err := tables.Open(b.TempDir(), tables.WithSealShareFunc(func() float64 {
		if behind.Load() {
			return catchUpShareBehind
		}
		return catchUpShare
	}))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	tbl, err := s.EnsureTable("bench", "ingest", ingestCols)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := processCPU(b)
	ctx, cancel := context.WithCancel(context.Background())
	sealDone := make(chan struct{})
	// Before the store closes, also when the benchmark fails early.
	defer func() {
		cancel()
		<-sealDone
	}()
	go func() {
		defer close(sealDone)
		if !seal {
			return
		}
		tick := time.NewTicker(catchUpSealAfter / 4)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now := time.Now()
			if _, err := s.SealDue(ctx, now.Add(-catchUpSealAfter).UnixMicro(), now.Add(-10*catchUpSealAfter).UnixMicro()); err != nil && ctx.Err() == nil {
				b.Errorf("seal pass: %v", err)
				return
			}
		}
	}()
	perCommit := 4 * len(feeds[0][0].Records)
	next := [4]int64{}
	for done, c := 0, 0; done < rows; done, c = done+perCommit, c+1 {
		commit := feeds[c%len(feeds)]
		for p := range commit {
			f := &commit[p]
			for j := range f.Records {
				f.Records[j].Offset = next[p] + int64(j)
			}
			next[p] += int64(len(f.Records))
			f.Next = next[p]
		}
		if _, err := s.Apply(tbl, commit); err != nil {
			b.Fatal(err)
		}
	}
	behind.Store(false)
	deadline := time.Now().Add(5 * time.Minute)
	for seal && s.Sealed().Rows < int64(rows)*9/10 {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d rows sealed after 5 minutes", s.Sealed().Rows, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-sealDone
	if seal {
		sc := s.Sealed()
		r := float64(sc.Rows)
		fmt.Printf("sealed %d rows: rows read %.2f, block bytes loaded from files %.2f and from the cache %.2f, Pebble keys stepped over %.2f per row sealed; %.0f rows per iterator\n",
			sc.Rows, float64(sc.Read)/r, float64(sc.BlockBytes-sc.CachedBytes)/r, float64(sc.CachedBytes)/r, float64(sc.Points)/r, r/float64(sc.Iters))
	}
	last, quiet := s.LSM(), time.Now()
	for time.Since(quiet) < time.Second {
		if time.Now().After(deadline) {
			b.Fatal("the store did not settle within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
		if st := s.LSM(); st.FlushedBytes != last.FlushedBytes || st.CompactedBytes != last.CompactedBytes {
			last, quiet = st, time.Now()
		}
	}
	cpu := processCPU(b) - cpu0
	return cpu / time.Duration(rows), float64(last.FlushedBytes+last.CompactedBytes) / float64(rows)
}

// BenchmarkCatchUpSealing (`make bench`): the store's part of
// BenchmarkIngestSealing (integration/), without Kafka, the mapping or the
// actors, so that the store's own cost of sealing shows through less
// noise. A fresh store takes N rows (3 M; LAKENODE_BENCH_ROWS) of the
// ingest workload's shape as fast as it can, in commits of 4 partitions x
// 500 rows, once never sealing and once sealing a second after commit as
// the node's seal loop does; alternating, three rounds each
// (LAKENODE_BENCH_ROUNDS). Process CPU per row until settled, medians.
func BenchmarkCatchUpSealing(b *testing.B) {
	rows, rounds := 3_000_000, 3
	if v, err := strconv.Atoi(os.Getenv("LAKENODE_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	if v, err := strconv.Atoi(os.Getenv("LAKENODE_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	feeds := catchUpFeeds(64, 500)
	for range b.N {
		var off, on []time.Duration
		var offB, onB []float64
		for range rounds {
			c, l := catchUpRun(b, feeds, rows, false)
			off, offB = append(off, c), append(offB, l)
			c, l = catchUpRun(b, feeds, rows, true)
			on, onB = append(on, c), append(onB, l)
		}
		mo, mn := medianDuration(off), medianDuration(on)
		b.ReportMetric(float64(mo.Nanoseconds())/1000, "no_seal_cpu_us/row")
		b.ReportMetric(float64(mn.Nanoseconds())/1000, "seal_cpu_us/row")
		b.ReportMetric(float64(mn)/float64(mo), "seal/no_seal_cpu")
		fmt.Printf("\n%d rows, %d alternating rounds: CPU per row without sealing %v %v, sealing %v %v (%.2fx); LSM bytes per row %.0f %.0f\n",
			rows, rounds, mo, off, mn, on, float64(mn)/float64(mo), offB, onB)
	}
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
