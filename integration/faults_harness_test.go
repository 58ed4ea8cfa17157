//go:build faults || soak

package integration

// The fault suite's harness (`make faults`, its short form in `make test`,
// and `make soak`): a fault run owns a node, samples its RSS and lag while a
// case runs, checks that every produced message is accounted for — in its
// table once, or in lakenode.kafka_errors with its reason — and prints one
// line of figures. A new case is a faultCase entry in faults_test.go whose
// run function uses these helpers.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables"
)

// faultsFull reports whether the suite runs at full size (LAKENODE_FAULTS=full,
// `make faults`) rather than the short form of `make test`.
func faultsFull() bool { return os.Getenv("LAKENODE_FAULTS") == "full" }

// size picks the short or the full figure.
func size[T any](short, full T) T {
	if faultsFull() {
		return full
	}
	return short
}

// faultDBMS is the database every case's consumer writes into.
const faultDBMS = "faults"

// faultConsumer is the ingest benchmark's consumer (8 mapped columns of
// benchMessage) into faults.TABLE from topic.
func faultConsumer(addr, topic, table string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(strings.Replace(benchConsumer, "dbms = bench", "dbms = "+faultDBMS, 1), host, port, topic, table)
}

// figures is what a case prints on its one line.
type figures struct {
	Messages int64         // produced and acknowledged by the broker
	Rows     int64         // in the case's table(s)
	Errors   int64         // in lakenode.kafka_errors
	MaxLag   int64         // the largest sum of the partitions' lag seen
	MaxRSS   int64         // bytes: the largest VmHWM of any of the node's processes
	Recovery time.Duration // from the end of the fault to every message accounted for
}

// faultRun is one case's node, broker and measurements.
type faultRun struct {
	t      *testing.T
	name   string
	b      *kafkatest.Broker
	topic  string
	table  string
	node   *nodeProc
	fig    figures
	faultE time.Time // when the fault ended, for Recovery

	mu     sync.Mutex
	pid    int // the node's current process, 0 while it is down
	maxRSS int64
	maxLag int64
	series []sample // every sample taken, in order
	stopc  chan struct{}
	done   chan struct{}
}

// sample is one reading of the node: its current RSS (VmRSS, bytes) and
// the sum of its partitions' lag (-1 when it did not answer).
type sample struct {
	At  time.Time
	RSS int64
	Lag int64
}

// newFaultRun prepares a case on broker b with a fresh topic of 4
// partitions named after the case; the node is started by startNode.
func newFaultRun(t *testing.T, name string, b *kafkatest.Broker) *faultRun {
	f := &faultRun{t: t, name: name, b: b, topic: "fault_" + name, table: "f_" + name}
	f.topic = strings.ReplaceAll(f.topic, "-", "_")
	f.table = strings.ReplaceAll(f.table, "-", "_")
	kafkatest.CreateTopic(t, b, f.topic, 4)
	return f
}

// startNode starts the case's node with script (the fault consumer of the
// case's topic and table when empty) and begins sampling it.
func (f *faultRun) startNode(script string, args ...string) *nodeProc {
	f.t.Helper()
	return f.startNodeIn(f.t.TempDir(), script, args...)
}

// startNodeIn is startNode on a given data dir. Every case's node seals
// its rows a second after their commit, so that kills, full disks and
// restarts also meet seals under way.
func (f *faultRun) startNodeIn(dataDir, script string, args ...string) *nodeProc {
	f.t.Helper()
	args = append([]string{"--seal-after", "1s"}, args...)
	if script == "" {
		script = faultConsumer(f.b.Addr(), f.topic, f.table)
	}
	f.node = startNode(f.t, f.name, dataDir, script, args...)
	f.setPID(f.node.cmd.Process.Pid)
	f.waitState(10*time.Second, func() (bool, string) {
		cs, _ := msgClientsAt(f.node.http)
		return len(cs) > 0, "no consumer"
	}, "the start-up script's consumer to run")
	f.stopc, f.done = make(chan struct{}), make(chan struct{})
	go f.sample()
	f.t.Cleanup(f.stopSampling)
	return f.node
}

func (f *faultRun) setPID(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pid != 0 {
		f.maxRSS = max(f.maxRSS, peakRSS(f.pid))
	}
	f.pid = pid
}

// sample reads the node's peak RSS and its consumer's lag every 250 ms
// until stopSampling.
func (f *faultRun) sample() {
	defer close(f.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-f.stopc:
			return
		case <-tick.C:
		}
		f.mu.Lock()
		pid := f.pid
		f.mu.Unlock()
		if pid == 0 {
			continue
		}
		rss, cur := peakRSS(pid), procRSS(pid)
		lag, ok := lagOf(f.node.http)
		if !ok {
			lag = -1
		}
		f.mu.Lock()
		if pid == f.pid {
			f.maxRSS = max(f.maxRSS, rss)
			f.series = append(f.series, sample{At: time.Now(), RSS: cur, Lag: lag})
		}
		f.maxLag = max(f.maxLag, lag)
		f.mu.Unlock()
	}
}

// procRSS is a process's current resident set (VmRSS) in bytes, -1 if
// unknown.
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// peak is the largest VmHWM seen so far of any of the node's processes.
func (f *faultRun) peak() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pid != 0 {
		f.maxRSS = max(f.maxRSS, peakRSS(f.pid))
	}
	return f.maxRSS
}

// samples returns a copy of the samples taken so far.
func (f *faultRun) samples() []sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sample(nil), f.series...)
}

func (f *faultRun) stopSampling() {
	if f.stopc == nil {
		return
	}
	select {
	case <-f.stopc:
	default:
		close(f.stopc)
	}
	<-f.done
}

// lagOf sums the lag of every partition the node at httpAddr reports;
// ok is false when the node does not answer (it may be restarting).
func lagOf(httpAddr string) (int64, bool) {
	cs, ok := msgClientsAt(httpAddr)
	if !ok {
		return 0, false
	}
	var lag int64
	for _, c := range cs {
		for _, p := range c.Partitions {
			lag += max(p.Lag, 0)
		}
	}
	return lag, true
}

// msgClientsAt reads `get msg client where format = json` without failing
// the test, for goroutines and for nodes that may be down.
func msgClientsAt(httpAddr string) ([]clientJSON, bool) {
	body, ok := restGet(httpAddr, "get msg client where format = json", 5*time.Second)
	if !ok {
		return nil, false
	}
	var cs []clientJSON
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		return nil, false
	}
	return cs, true
}

// restGet runs a command on the REST port within timeout; ok is false on
// any failure.
func restGet(httpAddr, command string, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/", nil)
	req.Header.Set("command", command)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return string(b), false
	}
	return string(b), true
}

// kill SIGKILLs the node (its peak RSS read first) and restart starts it
// again on the same data dir, ports and script.
func (f *faultRun) kill() {
	f.setPID(0)
	f.node.kill()
}

func (f *faultRun) restart() {
	f.t.Helper()
	f.node.restart()
	f.setPID(f.node.cmd.Process.Pid)
}

// stop stops the node with SIGTERM and returns how long it took; it fails
// the test if the node does not exit cleanly within a minute.
func (f *faultRun) stop() time.Duration {
	f.t.Helper()
	f.setPID(0)
	t0 := time.Now()
	f.node.stop()
	return time.Since(t0)
}

// faultEnded marks the end of the fault: Recovery counts from here.
func (f *faultRun) faultEnded() { f.faultE = time.Now() }

// waitState polls cond every 100 ms until it holds; on timeout it fails
// the test with cond's last description of the state and the node's log.
func (f *faultRun) waitState(timeout time.Duration, cond func() (bool, string), what string) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out after %v waiting for %s; last: %s\nnode log:\n%s", timeout, what, state, f.node.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errorRows is the number of rows in lakenode.kafka_errors.
func (f *faultRun) errorRows() int64 {
	n := f.node.rowCount(tables.ErrorsDBMS, tables.ErrorsTable)
	return max(n, 0)
}

// waitAccounted waits until the case's table holds rows and
// lakenode.kafka_errors holds errs rows — every one of the produced
// messages accounted for — and sets Recovery from the end of the fault.
func (f *faultRun) waitAccounted(rows, errs int64, timeout time.Duration) {
	f.t.Helper()
	f.waitState(timeout, func() (bool, string) {
		r, e := f.node.rowCount(faultDBMS, f.table), f.errorRows()
		if r > rows {
			f.t.Fatalf("%s.%s holds %d rows, more than the %d expected: a message stored twice", faultDBMS, f.table, r, rows)
		}
		return r == rows && e == errs, fmt.Sprintf("%d rows, %d errors", r, e)
	}, fmt.Sprintf("%d rows in %s.%s and %d in %s.%s", rows, faultDBMS, f.table, errs, tables.ErrorsDBMS, tables.ErrorsTable))
	if !f.faultE.IsZero() {
		f.fig.Recovery = time.Since(f.faultE)
	}
	f.fig.Rows, f.fig.Errors = rows, errs
}

// checkSeqOnce checks, by a query, that the case's table holds seq 0 to
// n-1 each exactly once (count = distinct count = n, min 0, max n-1).
func (f *faultRun) checkSeqOnce(n int64) {
	f.t.Helper()
	rows := queryRows(f.t, f.node, faultDBMS, fmt.Sprintf("select count(*) as c, count(distinct seq) as d, min(seq) as lo, max(seq) as hi from %s", f.table))
	if len(rows) != 1 {
		f.t.Fatalf("count query: %d rows", len(rows))
	}
	r := rows[0]
	c, d, lo, hi := r.int("c"), r.int("d"), r.int("lo"), r.int("hi")
	if c != n || d != n || lo != 0 || hi != n-1 {
		f.t.Fatalf("%s.%s: %d rows, %d distinct seq from %d to %d; want each of seq 0..%d exactly once", faultDBMS, f.table, c, d, lo, hi, n-1)
	}
}

// report prints the case's one line of figures (and logs it).
func (f *faultRun) report() {
	f.stopSampling()
	f.mu.Lock()
	if f.pid != 0 {
		f.maxRSS = max(f.maxRSS, peakRSS(f.pid))
	}
	f.fig.MaxRSS, f.fig.MaxLag = f.maxRSS, f.maxLag
	f.mu.Unlock()
	line := fmt.Sprintf("FAULT %-16s broker=%-6s messages=%d rows=%d errors=%d max_lag=%d max_rss=%dMiB recovery=%v",
		f.name, f.b.Kind(), f.fig.Messages, f.fig.Rows, f.fig.Errors, f.fig.MaxLag, f.fig.MaxRSS>>20, f.fig.Recovery.Round(time.Millisecond))
	f.t.Log(line)
	fmt.Println(line)
}

// row is one row of a `format = json` query reply.
type row map[string]json.RawMessage

func (r row) int(col string) int64 {
	n, err := strconv.ParseInt(strings.Trim(string(r[col]), `"`), 10, 64)
	if err != nil {
		return -1 << 62
	}
	return n
}

func (r row) str(col string) string {
	var s string
	if err := json.Unmarshal(r[col], &s); err != nil {
		return string(r[col])
	}
	return s
}

// queryRows runs a query with format = json and returns its rows.
func queryRows(t testing.TB, n *nodeProc, dbms, query string) []row {
	t.Helper()
	body := n.mustExec(fmt.Sprintf(`sql %s format = json and stat = false "%s"`, dbms, query))
	var got struct {
		Query []row `json:"Query"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: reply is not JSON: %v\n%.2000s", query, err, body)
	}
	return got.Query
}

// feeder produces benchMessages with seq 0, 1, ... at a steady rate into a
// topic until stopped, through the broker's faults: an idempotent producer
// that retries until each record is acknowledged or five minutes pass.
type feeder struct {
	cl    *kgo.Client
	acked atomic.Int64
	sent  int64
	errc  chan error
	stopc chan struct{}
	done  chan struct{}
}

// startFeeder starts producing rate messages a second to topic.
func startFeeder(t testing.TB, b *kafkatest.Broker, topic string, rate int) *feeder {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(5*time.Minute), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(50_000))
	if err != nil {
		t.Fatal(err)
	}
	fd := &feeder{cl: cl, errc: make(chan error, 1), stopc: make(chan struct{}), done: make(chan struct{})}
	go fd.run(rate)
	t.Cleanup(func() { fd.halt(); cl.Close() })
	return fd
}

func (fd *feeder) run(rate int) {
	defer close(fd.done)
	const tick = 10 * time.Millisecond
	perTick := max(rate/int(time.Second/tick), 1)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	ctx := context.Background()
	var buf []byte
	for {
		select {
		case <-fd.stopc:
			return
		case now := <-tk.C:
			for range perTick {
				buf = benchMessage(buf[:0], int(fd.sent), now, false)
				v := append([]byte(nil), buf...)
				fd.sent++
				fd.cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						select {
						case fd.errc <- err:
						default:
						}
						return
					}
					fd.acked.Add(1)
				})
			}
		}
	}
}

func (fd *feeder) halt() {
	select {
	case <-fd.stopc:
	default:
		close(fd.stopc)
	}
	<-fd.done
}

// stop stops producing, waits until every message sent is acknowledged
// and returns how many were; it fails the test if any was not.
func (fd *feeder) stop(t testing.TB) int64 {
	t.Helper()
	fd.halt()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if err := fd.cl.Flush(ctx); err != nil {
		t.Fatalf("flushing the producer: %v", err)
	}
	select {
	case err := <-fd.errc:
		t.Fatalf("a message was not acknowledged: %v", err)
	default:
	}
	if a := fd.acked.Load(); a != fd.sent {
		t.Fatalf("%d messages sent, %d acknowledged", fd.sent, a)
	}
	return fd.sent
}
