package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// writeSlowRows stores n rows whose column s is a string of size bytes in
// dbms slow, table t of a data dir: few rows on disk, and slowQuery spends
// long on each.
func writeSlowRows(tb testing.TB, dir string, n, size int) {
	tb.Helper()
	s, err := tables.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	t, err := s.EnsureTable("slow", "t", []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "s", Type: schema.TypeString}})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UnixMicro()
	const batch = 1000
	for base := 0; base < n; base += batch {
		f := tables.Feed{Src: 1, Next: int64(min(base+batch, n))}
		for i := base; i < min(base+batch, n); i++ {
			v := strings.Repeat(strconv.Itoa(i%10)+"aB", size/3+1)[:size]
			f.Records = append(f.Records, tables.Record{Offset: int64(i), Values: []schema.Value{schema.TimestampMicros(now - int64(n-i)), schema.Str(v)}})
		}
		if _, err := s.Apply(t, []tables.Feed{f}); err != nil {
			tb.Fatal(err)
		}
	}
}

// slowQuery is a query over slow.t that changes the case of every row's s
// depth times over.
func slowQuery(depth int) string {
	e := "s"
	for i := range depth {
		if i%2 == 0 {
			e = "upper(" + e + ")"
		} else {
			e = "lower(" + e + ")"
		}
	}
	return `sql slow "select count(*) from t where length(` + e + `) > 0"`
}

// getMetrics GETs addr's /metrics uncompressed: a poll that asks for
// gzip (Go's default) costs the node a quarter more CPU per scrape.
func getMetrics(addr string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	return http.DefaultClient.Do(req)
}

// metric reads a gauge or counter of the node's /metrics (-1 if absent).
func (p *nodeProc) metric(name string) float64 {
	p.t.Helper()
	resp, err := getMetrics(p.http)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return f
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return -1
}

// metrics reads several gauges or counters of the node's /metrics in one
// request; names it does not find are missing from the map.
func (p *nodeProc) metrics(names ...string) map[string]float64 {
	p.t.Helper()
	out := map[string]float64{}
	resp, err := getMetrics(p.http)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for _, name := range names {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					out[name] = f
				}
			}
		}
	}
	return out
}

// slowRows and slowDepth make slowQuery run for about 25 s on a developer
// machine (40 µs a row; the depth stays under the planner's nesting cap of
// 128): a canceled query that reports "query canceled" was stopped in its
// scan, and promptly when it says so within a few seconds (the scan checks
// for cancellation every 4,096 rows, 0.2 s).
const (
	slowRows  = 600_000
	slowDepth = 120
	// stopWithin bounds how long a canceled query may go on.
	stopWithin = 10 * time.Second
)

// waitRunning waits until the node runs want commands.
func (p *nodeProc) waitRunning(gauge string, want float64) {
	p.t.Helper()
	waitFor(p.t, 30*time.Second, func() bool { return p.metric(gauge) == want }, "%s on %s to be %v\n%s", gauge, p.name, want, p.logTail())
}

// waitLog waits until the node's log holds s n times.
func (p *nodeProc) waitLog(s string, n int, timeout time.Duration) {
	p.t.Helper()
	waitFor(p.t, timeout, func() bool { return p.logCount(s) >= n }, "%d log lines with %q on %s\n%s", n, s, p.name, p.logTail())
}

const canceledLine = `msg="command canceled"`

// TestCancelOverConnect: a query run through --connect stops on the node
// when the shell's Ctrl-C cancels it, when a -c client gets SIGINT and when
// the client is killed; a REST client that disconnects stops its query too.
// A client leaving is not logged as an error.
func TestCancelOverConnect(t *testing.T) {
	dir := t.TempDir()
	writeSlowRows(t, dir, slowRows, 100)
	n := startNode(t, "cancel-node", dir, "")
	q := slowQuery(slowDepth)
	const running = "lakenode_commands_running"

	// The shell: Ctrl-C cancels the query on the node, the shell goes on.
	s := startShell(t, "--connect", n.listen)
	s.expect(n.listen + "> ")
	s.send(q + "\r")
	n.waitRunning(running, 1)
	t0 := time.Now()
	s.send("\x03")
	waitFor(t, stopWithin, func() bool { return strings.Contains(s.screen(), "query canceled") }, "the shell to print the node's \"query canceled\"; screen:\n%s", s.screen())
	t.Logf("shell Ctrl-C: the node answered \"query canceled\" after %v", time.Since(t0).Round(time.Millisecond))
	n.waitRunning(running, 0)
	if c := n.logCount("canceled by its asker"); c != 1 || n.logCount(canceledLine) != 1 {
		t.Fatalf("want one command canceled by its asker in the node's log, got %d\n%s", c, n.logTail())
	}
	s.send("get version\r")
	s.expect(binVersion(t))
	s.send("\x04")
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("shell: %v\n%s", err, s.screen())
	}

	// -c: SIGINT stops the client, which cancels the query first.
	var errb bytes.Buffer
	cl := exec.Command(n.bin, "--connect", n.listen, "-c", q)
	cl.Stderr = &errb
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	n.waitRunning(running, 1)
	t0 = time.Now()
	_ = cl.Process.Signal(syscall.SIGINT)
	waited := make(chan error, 1)
	go func() { waited <- cl.Wait() }()
	select {
	case err := <-waited:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "query canceled") {
			t.Fatalf("-c client after SIGINT: %v, stderr %q", err, errb.String())
		}
	case <-time.After(stopWithin):
		_ = cl.Process.Kill()
		t.Fatalf("the -c client did not stop within %v of SIGINT; stderr %q", stopWithin, errb.String())
	}
	n.waitRunning(running, 0)
	t.Logf("-c SIGINT: client and query ended after %v", time.Since(t0).Round(time.Millisecond))
	n.waitLog("canceled by its asker", 2, stopWithin)

	// A killed client cannot cancel: its connection going away does.
	cl = exec.Command(n.bin, "--connect", n.listen, "-c", q)
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	n.waitRunning(running, 1)
	t0 = time.Now()
	_ = cl.Process.Kill()
	_ = cl.Wait()
	n.waitLog("connection went away", 1, stopWithin)
	n.waitRunning(running, 0)
	t.Logf("-c SIGKILL: query ended after %v", time.Since(t0).Round(time.Millisecond))

	// REST: the client hangs up.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.http+"/", nil)
	req.Header.Set("command", q)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	n.waitRunning(running, 1)
	t0 = time.Now()
	cancel()
	n.waitLog("its REST client went away", 1, stopWithin)
	n.waitRunning(running, 0)
	t.Logf("REST disconnect: query ended after %v", time.Since(t0).Round(time.Millisecond))

	if c := n.logCount(canceledLine); c != 4 {
		t.Fatalf("want 4 canceled commands in the node's log, got %d\n%s", c, n.logTail())
	}
	if c := n.logCount(`err="query canceled"`); c != 4 {
		t.Fatalf("want 4 queries stopped in their scan (\"query canceled\"), got %d\n%s", c, n.logTail())
	}
	// Three clients came and went: none of that is an error.
	if c := n.logCount("level=ERROR"); c != 0 {
		t.Fatalf("%d error lines in the node's log\n%s", c, n.logTail())
	}
	n.stop()
}

// TestCancelClusterQuery: the peers' shares of a run client () query stop
// when the asking node's query is canceled, and when its timeout passes.
func TestCancelClusterQuery(t *testing.T) {
	addrs := []string{freeAddr(t), freeAddr(t)}
	var nodes []*nodeProc
	for i, a := range addrs {
		dir := t.TempDir()
		writeSlowRows(t, dir, slowRows/2, 100)
		nodes = append(nodes, startNodeWith(t, fmt.Sprintf("cancel-%d", i), dir, a, "", "--seeds", otherAddrs(addrs, i)))
	}
	a, b := nodes[0], nodes[1]
	waitFor(t, 60*time.Second, func() bool { return strings.Count(a.mustExec("get nodes"), "slow.t") == 2 }, "the nodes to know each other's tables")
	const shares = "lakenode_query_shares_running"

	// The client asking node a gets SIGINT.
	var errb bytes.Buffer
	cl := exec.Command(a.bin, "--connect", a.listen, "-c", "run client () "+slowQuery(slowDepth))
	cl.Stderr = &errb
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	b.waitRunning(shares, 1)
	t0 := time.Now()
	_ = cl.Process.Signal(syscall.SIGINT)
	b.waitLog(`msg="query share canceled"`, 1, stopWithin)
	b.waitRunning(shares, 0)
	a.waitRunning("lakenode_commands_running", 0)
	t.Logf("SIGINT: node b's share ended after %v", time.Since(t0).Round(time.Millisecond))
	if err := cl.Wait(); err == nil || !strings.Contains(errb.String(), "query canceled") {
		t.Fatalf("client after SIGINT: %v, stderr %q", err, errb.String())
	}

	// The asking node's timeout passes. (Both nodes were busy: first let
	// node a hear from node b again.)
	waitFor(t, 60*time.Second, func() bool { return strings.Count(a.mustExec("get nodes"), "slow.t") == 2 }, "node a to count node b live")
	t0 = time.Now()
	answer := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+a.http+"/", nil)
		req.Header.Set("command", "run client (timeout = 2) "+slowQuery(slowDepth))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answer <- resp.Status + " " + string(body)
	}()
	b.waitRunning(shares, 1)
	select {
	case r := <-answer:
		if !strings.HasPrefix(r, "400 ") || !strings.Contains(r, "ran longer than 2s") {
			t.Fatalf("run client (timeout = 2): %s", r)
		}
	case <-time.After(stopWithin):
		t.Fatalf("run client (timeout = 2) did not answer within %v", stopWithin)
	}
	b.waitLog(`msg="query share canceled"`, 2, stopWithin)
	b.waitRunning(shares, 0)
	t.Logf("timeout = 2: node b's share ended %v after the query started", time.Since(t0).Round(time.Millisecond))
	// The SIGINT share was canceled by node a; the timed-out one by node a's
	// cancel or by the deadline node a sent with it, whichever came first.
	byAsker := b.logCount("why=\"canceled by its asker at " + a.listen + "\"")
	byDeadline := b.logCount(`why="context deadline exceeded"`)
	if byAsker < 1 || byAsker+byDeadline != 2 {
		t.Fatalf("want node b's two shares canceled by node a or its deadline, got %d by node a and %d by the deadline\n%s", byAsker, byDeadline, b.logTail())
	}
	for _, p := range nodes {
		p.stop()
	}
}
