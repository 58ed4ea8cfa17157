//go:build soak

package integration

// The soak (`make soak`): ingest at half the benchmark rate for 10 minutes
// with a query every second and an export every 10 s, sampling the node's
// RSS, lag and produce-to-visible p99 every few seconds. Flat means: RSS in
// the last minute ≤ RSS in the baseline minute + 10% (minute 2, or with
// sealing on the first minute after the first seal pass: minute 3 at the
// default --seal-after 60s; soakBaseline), and every minute's p99 ≤ 500
// ms. It writes a PNG plot of the three over time (LAKENODE_SOAK_PLOT,
// default docs/soak.png) and prints the figures (SOAK ...).
//
// The node runs with a 16 MiB block cache (LAKENODE_SOAK_CACHE to change
// it): the cache is memory the node keeps on purpose, filling at a few MiB
// a minute as queries read until it reaches its size (256 MiB by default,
// more than ten minutes of this load), so with the default RSS could not
// be flat by minute 2 however the rest behaved. A small cache is full
// within the first minutes and leaves RSS to say whether anything else
// grows; each minute's line also splits RSS into the Go heap, the block
// cache, the memtables and the sstable readers (/metrics).

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/node"
)

// soakRate is half the ingest benchmark's catch-up rate (BENCHMARKS.md:
// ~300,000 rows/s on both brokers), unless LAKENODE_SOAK_RATE says.
func soakRate(t *testing.T) int {
	if v := os.Getenv("LAKENODE_SOAK_RATE"); v != "" {
		r, err := strconv.Atoi(v)
		if err != nil || r <= 0 {
			t.Fatalf("LAKENODE_SOAK_RATE=%q: want messages per second", v)
		}
		return r
	}
	return 150_000
}

// soakCache is the node's --cache-size for the soak.
func soakCache() string {
	if v := os.Getenv("LAKENODE_SOAK_CACHE"); v != "" {
		return v
	}
	return "16MiB"
}

// soakArgs are the node's flags: the cache size and --seal-after, as
// LAKENODE_SOAK_SEAL_AFTER says (0 never seals: the same load without
// sealing, to tell what sealing costs from what the machine does) or the
// node's default. Always given: the fault harness the soak runs on seals a
// second after commit unless told otherwise.
func soakArgs(t *testing.T) []string {
	return []string{"--cache-size", soakCache(), "--seal-after", soakSealAfter(t).String()}
}

// soakSealAfter is the soak node's --seal-after.
func soakSealAfter(t *testing.T) time.Duration {
	v := os.Getenv("LAKENODE_SOAK_SEAL_AFTER")
	if v == "" {
		return node.DefaultSealAfter
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		t.Fatalf("LAKENODE_SOAK_SEAL_AFTER=%q: want a duration, 0 for never", v)
	}
	return d
}

// soakBaseline is the minute (0-based) whose RSS the last minute's is held
// to: minute 2, the first after start-up; with sealing on, the first
// minute that starts after the first seal pass can have begun (at most a
// quarter of --seal-after later than --seal-after itself: minute 3 at the
// default 60 s). A pass keeps a block's columns in memory and the Go heap
// its headroom for them from then on; a step when sealing begins is not
// growth, and minute 2 would count it as growth.
func soakBaseline(t *testing.T) int {
	after := soakSealAfter(t)
	if after <= 0 {
		return 1
	}
	return max(1, int((after+after/4)/time.Minute)+1)
}

func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("LAKENODE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 3*time.Minute {
			t.Fatalf("LAKENODE_SOAK_DURATION=%q: want a duration of at least 3m", v)
		}
		return d
	}
	return 10 * time.Minute
}

// soakPoint is one sample of the soak.
type soakPoint struct {
	At    time.Duration // since the start
	RSS   int64         // bytes, VmRSS
	Lag   int64         // sum over the partitions
	P99   int64         // ms, the largest of the partitions' p99
	Query time.Duration // the latest query's answer time
	// What the node's /metrics says of its memory, bytes: the Go heap in
	// use, the store's block cache, memtables and open sstable readers.
	Heap, Cache, MemT, Readers int64
	// Cumulative: seconds of write stalls and of the node's CPU; and the
	// store's L0 sublevels at the sample.
	Stall, CPU float64
	L0         int64
	// Cumulative: rows sealed into column blocks, seconds in seal passes,
	// blocks after which a pass yielded to ingest that was behind.
	Sealed, SealSec, Yields float64
}

// soakMetrics are the /metrics gauges each soak sample reads.
var soakMetrics = []string{"go_memstats_heap_inuse_bytes", "lakenode_store_block_cache_bytes", "lakenode_store_memtable_bytes", "lakenode_store_open_table_reader_bytes",
	"lakenode_store_write_stall_seconds_total", "process_cpu_seconds_total", "lakenode_store_l0_sublevels",
	"lakenode_store_sealed_rows_total", "lakenode_store_seal_seconds_total", "lakenode_store_seal_yields_total"}

func TestSoak(t *testing.T) {
	rate, dur := soakRate(t), soakDuration(t)
	b := kafkatest.Shared(t)
	f := newFaultRun(t, "soak", b)
	n := f.startNode("", soakArgs(t)...)
	out := f.topic + "_out"
	kafkatest.CreateTopic(t, b, out, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	fd := startFeeder(t, b, f.topic, rate)
	start := time.Now()
	t.Logf("soak: %d messages/s for %v on %s, block cache %s", rate, dur, b.Kind(), soakCache())
	// The table exists once the first rows are stored; queries start then.
	f.waitState(time.Minute, func() (bool, string) {
		body, ok := restGet(n.http, fmt.Sprintf(`sql %s format = json and stat = false "select count(*) from %s"`, faultDBMS, f.table), 10*time.Second)
		return ok, body
	}, "the table's first rows")

	var mu sync.Mutex
	var lastQuery time.Duration
	var queries, exports, failures int
	var firstFailure string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// A query every second.
	wg.Go(func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			t0 := time.Now()
			body, ok := restGet(n.http, fmt.Sprintf(`sql %s format = json and stat = false "select count(*), avg(value), max(seq) from %s where timestamp > now() - 1 second"`, faultDBMS, f.table), 30*time.Second)
			mu.Lock()
			lastQuery = time.Since(t0)
			queries++
			if !ok {
				failures++
				if firstFailure == "" {
					firstFailure = fmt.Sprintf("query at %v: %.300s", time.Since(start).Round(time.Second), body)
				}
			}
			mu.Unlock()
		}
	})
	// An export every 10 s.
	wg.Go(func() {
		tk := time.NewTicker(10 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			body, ok := restGet(n.http, fmt.Sprintf(`sql %s format = json:output and stat = false and dest = kafka@%s:%s and topic = %s "select device_name, timestamp, value from %s where timestamp > now() - 10 seconds limit 10000"`, faultDBMS, host, port, out, f.table), time.Minute)
			mu.Lock()
			exports++
			if !ok {
				failures++
				if firstFailure == "" {
					firstFailure = fmt.Sprintf("export at %v: %.300s", time.Since(start).Round(time.Second), body)
				}
			}
			mu.Unlock()
		}
	})

	// With LAKENODE_SOAK_PPROF=DIR, the node's CPU over 30 s and its heap
	// are saved there during the last minute (what a failing soak's CPU
	// and memory go to).
	if dir := os.Getenv("LAKENODE_SOAK_PPROF"); dir != "" {
		var profiled sync.WaitGroup
		profiled.Add(1)
		prof := time.AfterFunc(dur-50*time.Second, func() {
			defer profiled.Done()
			saveProfile(t, "http://"+n.http+"/debug/pprof/profile?seconds=30", filepath.Join(dir, "soak-cpu.prof"))
			saveProfile(t, "http://"+n.http+"/debug/pprof/heap", filepath.Join(dir, "soak-heap.prof"))
		})
		defer func() {
			if prof.Stop() { // it had not started
				profiled.Done()
			}
			profiled.Wait()
		}()
	}
	var points []soakPoint
	tk := time.NewTicker(5 * time.Second)
	for now := range tk.C {
		if now.Sub(start) > dur {
			break
		}
		cs, ok := msgClientsAt(n.http)
		if !ok {
			t.Fatalf("the node did not answer get msg client at %v\n%s", now.Sub(start).Round(time.Second), n.logTail())
		}
		p := soakPoint{At: now.Sub(start), RSS: procRSS(n.cmd.Process.Pid)}
		if m := n.metrics(soakMetrics...); len(m) == len(soakMetrics) {
			p.Heap, p.Cache, p.MemT, p.Readers = int64(m[soakMetrics[0]]), int64(m[soakMetrics[1]]), int64(m[soakMetrics[2]]), int64(m[soakMetrics[3]])
			p.Stall, p.CPU, p.L0 = m[soakMetrics[4]], m[soakMetrics[5]], int64(m[soakMetrics[6]])
			p.Sealed, p.SealSec, p.Yields = m[soakMetrics[7]], m[soakMetrics[8]], m[soakMetrics[9]]
		}
		for _, c := range cs {
			for _, pt := range c.Partitions {
				p.Lag += max(pt.Lag, 0)
				p.P99 = max(p.P99, pt.P99)
			}
		}
		mu.Lock()
		p.Query = lastQuery
		mu.Unlock()
		points = append(points, p)
	}
	tk.Stop()
	close(stop)
	wg.Wait()
	// The peak before the final check, whose count(distinct seq) holds
	// every seq in memory.
	peak := f.peak()
	f.fig.Messages = fd.stop(t)
	f.waitAccounted(f.fig.Messages, 0, 5*time.Minute)

	// Per minute: mean RSS, the largest p99 and lag.
	minutes := int(dur / time.Minute)
	base := soakBaseline(t)
	if base >= minutes-1 {
		t.Fatalf("a %v soak has no minute after minute %d, its RSS baseline: run it longer", dur, base+1)
	}
	type minute struct {
		rss, p99, lag                       int64
		heap, cache, memt, readers          int64
		n, l0                               int64
		stall, cpu, sealed, sealSec, yields float64 // cumulative at the minute's last sample
	}
	per := make([]minute, minutes)
	var first minute // the cumulative figures of the first sample: minute 1's start
	if len(points) > 0 {
		p := points[0]
		first.stall, first.cpu, first.sealed, first.sealSec, first.yields = p.Stall, p.CPU, p.Sealed, p.SealSec, p.Yields
	}
	for _, p := range points {
		m := int(p.At / time.Minute)
		if m >= minutes {
			m = minutes - 1
		}
		per[m].rss += p.RSS
		per[m].heap += p.Heap
		per[m].cache += p.Cache
		per[m].memt += p.MemT
		per[m].readers += p.Readers
		per[m].n++
		per[m].p99 = max(per[m].p99, p.P99)
		per[m].lag = max(per[m].lag, p.Lag)
		per[m].l0 = max(per[m].l0, p.L0)
		per[m].stall, per[m].cpu, per[m].sealed, per[m].sealSec, per[m].yields = p.Stall, p.CPU, p.Sealed, p.SealSec, p.Yields
	}
	for i := range per {
		if per[i].n > 0 {
			per[i].rss /= per[i].n
			per[i].heap /= per[i].n
			per[i].cache /= per[i].n
			per[i].memt /= per[i].n
			per[i].readers /= per[i].n
		}
		prev := first
		if i > 0 {
			prev = per[i-1]
		}
		// This minute's (minute 1's from the first sample: its CPU is
		// per second of that span).
		secs := 60.0
		if i == 0 && len(points) > 0 {
			secs = max((time.Minute - points[0].At).Seconds(), 1)
		}
		stall, cpu := per[i].stall-prev.stall, per[i].cpu-prev.cpu
		sealed, sealSec, yields := per[i].sealed-prev.sealed, per[i].sealSec-prev.sealSec, per[i].yields-prev.yields
		line := fmt.Sprintf("SOAK minute %2d: rss %4d MiB (go heap %d, block cache %d, memtables %d, sstable readers %d), p99 %4d ms, max lag %d, write stalls %.1f s, node cpu %.2f cores, max L0 sublevels %d, sealed %.0f rows in %.1f s (yielded to ingest after %.0f blocks)",
			i+1, per[i].rss>>20, per[i].heap>>20, per[i].cache>>20, per[i].memt>>20, per[i].readers>>20, per[i].p99, per[i].lag, stall, cpu/secs, per[i].l0, sealed, sealSec, yields)
		t.Log(line)
		fmt.Println(line)
	}
	mu.Lock()
	summary := fmt.Sprintf("SOAK broker=%s rate=%d/s duration=%v cache=%s seal_after=%v messages=%d rows=%d queries=%d exports=%d failed=%d produced=%.0f/s rss_min%d=%dMiB rss_last=%dMiB peak_rss=%dMiB",
		b.Kind(), rate, dur, soakCache(), soakSealAfter(t), f.fig.Messages, f.fig.Rows, queries, exports, failures, float64(f.fig.Messages)/dur.Seconds(), base+1, per[base].rss>>20, per[minutes-1].rss>>20, peak>>20)
	mu.Unlock()
	t.Log(summary)
	fmt.Println(summary)

	plotPath := os.Getenv("LAKENODE_SOAK_PLOT")
	if plotPath == "" {
		plotPath = filepath.Join("..", "docs", "soak.png")
	}
	if err := soakPlot(points, plotPath, fmt.Sprintf("lakenode soak: %d msgs/s on %s, %v", rate, b.Kind(), dur)); err != nil {
		t.Errorf("writing the plot: %v", err)
	} else {
		t.Logf("plot written to %s", plotPath)
	}

	if failures > 0 {
		t.Errorf("%d of %d queries and %d exports failed; the first: %s", failures, queries, exports, firstFailure)
	}
	if last, from := per[minutes-1].rss, per[base].rss; last > from+from/10 {
		t.Errorf("RSS grew: %d MiB in the last minute, %d MiB in minute %d (+10%% allowed)", last>>20, from>>20, base+1)
	}
	for i, m := range per {
		if m.p99 > 500 {
			t.Errorf("minute %d: produce-to-visible p99 %d ms, want ≤ 500 ms", i+1, m.p99)
		}
	}
	// The exact check (checkSeqOnce's count of distinct seq) holds every
	// seq of tens of millions of rows in memory and outlasts any REST
	// timeout; it runs last, after the figures and the plot, in the
	// cheaper form of checkSeqSum, while the node still runs.
	f.checkSeqSum(f.fig.Messages)
	f.stop()
}

// soakPlot draws lag, p99 and RSS over time, one panel each, into a PNG.
func soakPlot(points []soakPoint, path, title string) error {
	series := []struct {
		name string
		y    func(soakPoint) float64
	}{
		{"lag (messages)", func(p soakPoint) float64 { return float64(p.Lag) }},
		{"produce-to-visible p99 (ms)", func(p soakPoint) float64 { return float64(p.P99) }},
		{"RSS (MiB)", func(p soakPoint) float64 { return float64(p.RSS) / (1 << 20) }},
	}
	plots := make([][]*plot.Plot, len(series))
	for i, s := range series {
		p := plot.New()
		if i == 0 {
			p.Title.Text = title
		}
		p.X.Label.Text = "minutes"
		p.Y.Label.Text = s.name
		p.Y.Min = 0
		xy := make(plotter.XYs, len(points))
		for j, pt := range points {
			xy[j].X, xy[j].Y = pt.At.Minutes(), s.y(pt)
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		l.Color = color.RGBA{B: 200, A: 255}
		p.Add(l, plotter.NewGrid())
		plots[i] = []*plot.Plot{p}
	}
	img := vgimg.New(8*vg.Inch, 9*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(series), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// checkSeqSum checks the case's table holds n rows whose seq run from 0 to
// n-1 and sum to n(n-1)/2: with the row count checked exactly, a doubled
// seq would need a missing one of the same sum to hide. It scans once and
// keeps nothing per row, so it suits tens of millions of rows.
func (f *faultRun) checkSeqSum(n int64) {
	f.t.Helper()
	body, ok := restGet(f.node.http, fmt.Sprintf(`sql %s format = json and stat = false "select count(*) as c, sum(seq) as s, min(seq) as lo, max(seq) as hi from %s"`, faultDBMS, f.table), 10*time.Minute)
	if !ok {
		f.t.Fatalf("the sum query failed: %.500s", body)
	}
	var got struct {
		Query []map[string]json.Number `json:"Query"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Query) != 1 {
		f.t.Fatalf("the sum query's reply: %v\n%.500s", err, body)
	}
	r := got.Query[0]
	c, _ := r["c"].Int64()
	sum, _ := new(big.Float).SetString(r["s"].String())
	lo, _ := r["lo"].Int64()
	hi, _ := r["hi"].Int64()
	want := new(big.Float).SetInt(new(big.Int).Div(new(big.Int).Mul(big.NewInt(n), big.NewInt(n-1)), big.NewInt(2)))
	if c != n || lo != 0 || hi != n-1 || sum == nil || sum.Cmp(want) != 0 {
		f.t.Fatalf("%s.%s: %d rows, seq %d to %d summing to %v; want seq 0..%d once each (sum %v)", faultDBMS, f.table, c, lo, hi, sum, n-1, want)
	}
}

// saveProfile writes what url answers to path; a failure is logged, not
// fatal (the profile is an aid, the soak's verdict stands without it).
func saveProfile(t *testing.T, url, path string) {
	resp, err := http.Get(url)
	if err == nil {
		defer resp.Body.Close()
		var b []byte
		if b, err = io.ReadAll(resp.Body); err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
	}
	if err != nil {
		t.Logf("profile %s: %v", path, err)
	}
}
