package integration

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// writeRows stores rows i in [from, to) of the benchmark workload (the
// query benchmark's: timestamps spread over the last two days, 1,000
// devices) in dbms bench, table ping_sensor of a data dir.
func writeRows(tb testing.TB, dir string, n, from, to int, now time.Time) {
	s, err := tables.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	t, err := s.EnsureTable("bench", "ping_sensor", cols)
	if err != nil {
		tb.Fatal(err)
	}
	span := int64(48 * time.Hour / time.Microsecond)
	start := now.UnixMicro() - span
	const batch = 50_000
	for base := from; base < to; base += batch {
		f := tables.Feed{Src: 1, Partition: 0, Next: int64(min(base+batch, to))}
		for i := base; i < min(base+batch, to); i++ {
			ts := start + int64(i)*span/int64(n)
			f.Records = append(f.Records, tables.Record{Offset: int64(i), Values: []schema.Value{
				schema.Str("device-" + strconv.Itoa(i%1000)), schema.TimestampMicros(ts), schema.Int(int64(i % 997)),
			}})
		}
		if _, err := s.Apply(t, []tables.Feed{f}); err != nil {
			tb.Fatal(err)
		}
	}
}

// slowestNode returns the largest of a run client () answer's "Node ms".
func slowestNode(tb testing.TB, body string) time.Duration {
	var out struct {
		Statistics []struct {
			NodeMS map[string]float64 `json:"Node ms"`
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Statistics) == 0 || len(out.Statistics[0].NodeMS) == 0 {
		tb.Fatalf("no Node ms in %s (%v)", body, err)
	}
	var ms float64
	for _, v := range out.Statistics[0].NodeMS {
		ms = max(ms, v)
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// median is the middle value (the upper one of an even count).
func median[T cmp.Ordered](ds []T) T {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkScatterGather (`make bench`): 10 M rows (LAKENODE_BENCH_ROWS=N)
// spread over three local nodes, queried with run client () from one of
// them, against the same query on one node that holds all the rows. It
// reports the time of the scatter-gather, that of the slowest node on its
// share (its own "Node ms" in the same answer), the overhead (the first
// minus the second: planning, messages, merge, rendering) and the single
// node's time. The three nodes share the machine's cores, so the slowest
// node's share runs slower than it would alone. It runs twice: on the rows
// as written, then on the same data dirs sealed into column blocks.
func BenchmarkScatterGather(b *testing.B) {
	n := envInt(b, "LAKENODE_BENCH_ROWS", 10_000_000)
	now := time.Now()
	root := b.TempDir()
	t0 := time.Now()
	dirs := make([]string, 3)
	for i := range dirs {
		dirs[i] = filepath.Join(root, fmt.Sprintf("node-%d", i))
		writeRows(b, dirs[i], n, i*n/3, (i+1)*n/3, now)
	}
	single := filepath.Join(root, "single")
	writeRows(b, single, n, 0, n, now)
	fmt.Printf("scatter-gather: %d rows written to 3 + 1 data dirs in %v\n", n, time.Since(t0).Round(time.Second))

	addrs := []string{freeAddr(b), freeAddr(b), freeAddr(b)}
	// The nodes never seal by themselves: the first phase reads rows, the
	// second the same rows sealed offline between the two.
	start := func() ([]*nodeProc, *nodeProc) {
		var nodes []*nodeProc
		for i, a := range addrs {
			nodes = append(nodes, startNodeWith(b, fmt.Sprintf("sg-%d", i), dirs[i], a, "", "--seeds", otherAddrs(addrs, i), "--seal-after", "0"))
		}
		one := startNode(b, "sg-single", single, "", "--seal-after", "0")
		waitFor(b, 60*time.Second, func() bool { return strings.Count(nodes[0].mustExec("get nodes"), "bench.ping_sensor") == 3 }, "the three nodes to know each other's tables")
		return nodes, one
	}

	// A fixed cut-off rather than now(), so that both sides see the same rows.
	cut := now.Add(-24 * time.Hour).UTC().Format("2006-01-02 15:04:05")
	queries := []struct{ name, sql string }{
		{"1-day aggregate", "select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > '" + cut + "'"},
		{"group-by top-10", "select device_name, count(*), avg(value) from ping_sensor group by device_name order by 2 desc, 1 limit 10"},
	}
	const runs = 5
	for range b.N {
		rowsMedian := map[string]time.Duration{}
		for _, phase := range []string{"rows", "sealed"} {
			if phase == "sealed" {
				t1 := time.Now()
				for _, d := range append(slices.Clone(dirs), single) {
					sealDir(b, d, now)
				}
				fmt.Printf("scatter-gather: 3 + 1 data dirs sealed in %v\n", time.Since(t1).Round(time.Second))
			}
			nodes, one := start()
			for _, q := range queries {
				var sg, slow, over, alone []time.Duration
				var want string
				for r := 0; r <= runs; r++ { // run 0 warms the caches
					t1 := time.Now()
					body := nodes[0].mustExec(`run client () sql bench "` + q.sql + `"`)
					d := time.Since(t1)
					s := slowestNode(b, body)
					t2 := time.Now()
					ob := one.mustExec(`sql bench "` + q.sql + `"`)
					d1 := time.Since(t2)
					got, wantRows := body[:strings.Index(body, "Statistics")], ob[:strings.Index(ob, "Statistics")]
					if r == 0 {
						if got != wantRows {
							b.Fatalf("%s: the cluster answers\n%s\nthe single node\n%s", q.name, got, wantRows)
						}
						want = got
						continue
					}
					if got != want {
						b.Fatalf("%s: answers differ between runs", q.name)
					}
					sg, slow, over, alone = append(sg, d), append(slow, s), append(over, d-s), append(alone, d1)
				}
				m, ms, mo, m1 := median(sg), median(slow), median(over), median(alone)
				key := strings.Fields(q.name)[0]
				b.ReportMetric(float64(m.Microseconds())/1000, phase+"_sg_ms/"+key)
				b.ReportMetric(float64(mo.Microseconds())/1000, phase+"_overhead_ms/"+key)
				speedup := ""
				if phase == "rows" {
					rowsMedian[q.name] = m
				} else {
					speedup = fmt.Sprintf("; %.1fx faster than on rows", float64(rowsMedian[q.name])/float64(m))
				}
				fmt.Printf("%s over %d %s, median of %d: 3-node scatter-gather %v, slowest node's share %v, overhead %v; one node with all rows %v (%.2fx the scatter-gather)%s\n",
					q.name, n, phase, runs, m.Round(100*time.Microsecond), ms.Round(100*time.Microsecond), mo.Round(100*time.Microsecond), m1.Round(100*time.Microsecond), float64(m1)/float64(m), speedup)
			}
			for _, p := range append(nodes, one) {
				p.stop()
			}
		}
	}
}

// sealDir seals every row of a stopped node's data dir.
func sealDir(tb testing.TB, dir string, now time.Time) {
	s, err := tables.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.SealAll(context.Background(), now.Add(time.Hour).UnixMicro()); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}
