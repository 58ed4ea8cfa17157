package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
)

// runningQuery is a line of `get queries where format = json`.
type runningQuery struct {
	ID      int64  `json:"id"`
	Node    string `json:"node"`
	Kind    string `json:"kind"`
	Scanned int64  `json:"rows_scanned"`
	Command string `json:"command"`
}

// queries lists the node's running queries.
func (p *nodeProc) queries() []runningQuery {
	p.t.Helper()
	var qs []runningQuery
	if err := json.Unmarshal([]byte(p.mustExec("get queries where format = json")), &qs); err != nil {
		p.t.Fatalf("get queries: %v", err)
	}
	return qs
}

// waitScanning waits until the node runs one query of kind that has
// scanned rows, and returns it.
func (p *nodeProc) waitScanning(kind string) runningQuery {
	p.t.Helper()
	var q runningQuery
	waitFor(p.t, 30*time.Second, func() bool {
		qs := p.queries()
		if len(qs) == 1 && qs[0].Kind == kind && qs[0].Scanned > 0 {
			q = qs[0]
			return true
		}
		return false
	}, "a %s scanning on %s\n%s", kind, p.name, p.logTail())
	return q
}

// waitNoQueries waits until the node runs no query.
func (p *nodeProc) waitNoQueries() {
	p.t.Helper()
	waitFor(p.t, stopWithin, func() bool { return len(p.queries()) == 0 }, "no query running on %s: %v\n%s", p.name, p.queries(), p.logTail())
}

// TestQueriesCancelOnEveryNode: a run client () query over two nodes whose
// scans the test hook slows (a small table, 1 ms a row) is listed by get
// queries on both — the asking node's query, the other's share, each with
// its rows scanned — and stops on both nodes when its REST client hangs
// up, when its --connect client gets SIGINT, and with cancel query. (Each
// scan would go on for 30 s: gone within seconds, it was stopped. The log
// writes an identical line once a minute, so only the first share's
// "canceled" line is counted.)
func TestQueriesCancelOnEveryNode(t *testing.T) {
	t.Setenv(actors.TestScanDelayEnv, "slow.t=1ms")
	addrs := []string{freeAddr(t), freeAddr(t)}
	var nodes []*nodeProc
	for i, a := range addrs {
		dir := t.TempDir()
		writeSlowRows(t, dir, 30_000, 10) // 30 s a node unless stopped
		nodes = append(nodes, startNodeWith(t, fmt.Sprintf("queries-%d", i), dir, a, "", "--seeds", otherAddrs(addrs, i)))
	}
	a, b := nodes[0], nodes[1]
	waitFor(t, 60*time.Second, func() bool { return strings.Count(a.mustExec("get nodes"), "slow.t") == 2 }, "the nodes to know each other's tables")
	const q = `run client () sql slow "select count(*) from t"`

	// The REST client hangs up.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.http+"/", nil)
	req.Header.Set("command", q)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	mine := a.waitScanning("query")
	share := b.waitScanning("share")
	if mine.Node != a.name || !strings.Contains(mine.Command, "select count(*) from t") || share.Node != a.name {
		t.Fatalf("listed: on a %+v, on b %+v", mine, share)
	}
	t0 := time.Now()
	cancel()
	a.waitNoQueries()
	b.waitNoQueries()
	t.Logf("REST client gone: both scans stopped after %v", time.Since(t0).Round(time.Millisecond))
	a.waitLog("its REST client went away", 1, stopWithin)
	b.waitLog(`msg="query share canceled"`, 1, stopWithin)

	// The --connect client gets SIGINT.
	cl := exec.Command(a.bin, "--connect", a.listen, "-c", q)
	var errb strings.Builder
	cl.Stderr = &errb
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	a.waitScanning("query")
	b.waitScanning("share")
	t0 = time.Now()
	_ = cl.Process.Signal(syscall.SIGINT)
	a.waitNoQueries()
	b.waitNoQueries()
	t.Logf("--connect SIGINT: both scans stopped after %v", time.Since(t0).Round(time.Millisecond))
	if err := cl.Wait(); err == nil || !strings.Contains(errb.String(), "query canceled") {
		t.Fatalf("--connect client after SIGINT: %v, stderr %q", err, errb.String())
	}

	// cancel query ID.
	answer := make(chan reply, 1)
	go func() { answer <- a.exec(q) }()
	mine = a.waitScanning("query")
	b.waitScanning("share")
	if r := a.exec(fmt.Sprintf("cancel query %d", mine.ID+1000)); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "no such query") {
		t.Fatalf("cancel of an unknown query: %d %s", r.Status, r.Body)
	}
	if got := a.mustExec(fmt.Sprintf("cancel query %d", mine.ID)); !strings.Contains(got, "canceled") {
		t.Fatalf("cancel query: %s", got)
	}
	select {
	case r := <-answer:
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "query canceled (canceled by cancel query") {
			t.Fatalf("the canceled query answered %d %s", r.Status, r.Body)
		}
	case <-time.After(stopWithin):
		t.Fatalf("the canceled query did not answer within %v", stopWithin)
	}
	a.waitNoQueries()
	b.waitNoQueries()
	for _, p := range nodes {
		p.stop()
	}
}
