package clustertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/cluster/clustertest"
	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables/schema"
)

type listed struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Scanned int64  `json:"rows_scanned"`
}

// queriesOn lists the running queries of node 0 (where "") or of the node
// named where, asked through node 0.
func queriesOn(t *testing.T, c *clustertest.Cluster, where string) []listed {
	t.Helper()
	cmd := "get queries where format = json"
	if where != "" {
		cmd = "run client (" + where + ") " + cmd
	}
	res := c.Node.Execute(context.Background(), cmd, node.ExecOptions{})
	if res.Err != nil {
		t.Fatalf("%s: %v", cmd, res.Err)
	}
	body := res.Text
	if where != "" {
		_, body, _ = strings.Cut(body, "\n") // [From Node ...]
	}
	var l []listed
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, res.Text)
	}
	return l
}

// loadSlowTable loads d.t: 40,000 rows over the cluster's nodes, whose
// scan takes 40 s over the test hook's 1 ms a row unless stopped.
func loadSlowTable(t *testing.T, c *clustertest.Cluster) {
	t.Helper()
	cols := []schema.Column{{Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	rows := make([][]schema.Value, 40_000)
	t0 := time.Now().Add(-time.Hour)
	for i := range rows {
		rows[i] = []schema.Value{schema.Timestamp(t0.Add(time.Duration(i) * time.Millisecond)), schema.Int(int64(i))}
	}
	c.Load(t, "d", "t", cols, rows)
}

func waitQueries(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCancelQueryOnEveryNode: a run client () query over two nodes, its
// scans slowed by the test hook, is listed by get queries on node 0 (the
// query) and on node 1 (its share), each with rows scanned; cancel query
// stops both, and the asker learns why.
func TestCancelQueryOnEveryNode(t *testing.T) {
	if clustertest.Isolated(t, actors.TestScanDelayEnv+"=d.t=1ms") {
		return
	}
	c := clustertest.Start(t, 2)
	loadSlowTable(t, c)
	answer := make(chan node.Result, 1)
	go func() {
		answer <- c.Node.Execute(context.Background(), `run client () sql d "select count(*) from t"`, node.ExecOptions{})
	}()
	var id int64
	waitQueries(t, "the query to scan on node 0", func() bool {
		l := queriesOn(t, c, "")
		if len(l) == 1 && l[0].Kind == "query" && l[0].Scanned > 0 {
			id = l[0].ID
			return true
		}
		return false
	})
	waitQueries(t, "its share to scan on node 1", func() bool {
		l := queriesOn(t, c, "ct-1")
		return len(l) == 1 && l[0].Kind == "share" && l[0].Scanned > 0
	})
	tbl := c.Node.Execute(context.Background(), "get queries", node.ExecOptions{})
	for _, want := range []string{"ID", "Node", "Elapsed", "Rows scanned", "Command", "ct-0", `run client () sql d "select count(*) from t"`} {
		if !strings.Contains(tbl.Text, want) {
			t.Fatalf("get queries lacks %q:\n%s", want, tbl.Text)
		}
	}
	start := time.Now()
	if res := c.Node.Execute(context.Background(), "cancel query "+strconv.FormatInt(id, 10), node.ExecOptions{}); res.Err != nil {
		t.Fatalf("cancel query %d: %v", id, res.Err)
	}
	select {
	case res := <-answer:
		if res.Err == nil || !strings.Contains(res.Err.Error(), fmt.Sprintf("query canceled (canceled by cancel query %d)", id)) {
			t.Fatalf("the canceled query answered %v %q", res.Err, res.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the canceled query did not answer within 10 s")
	}
	waitQueries(t, "no query on node 0", func() bool { return len(queriesOn(t, c, "")) == 0 })
	waitQueries(t, "no share on node 1", func() bool { return len(queriesOn(t, c, "ct-1")) == 0 })
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the scans stopped %v after cancel query", took)
	}
}

// TestStopCancelsQueries: a node that stops cancels its running queries;
// their callers get "query canceled" at once, not when the scan would end.
func TestStopCancelsQueries(t *testing.T) {
	if clustertest.Isolated(t, actors.TestScanDelayEnv+"=d.t=1ms") {
		return
	}
	c := clustertest.Start(t, 1)
	loadSlowTable(t, c)
	answer := make(chan node.Result, 1)
	go func() {
		answer <- c.Node.Execute(context.Background(), `sql d "select count(*) from t"`, node.ExecOptions{})
	}()
	waitQueries(t, "the query to scan", func() bool { l := queriesOn(t, c, ""); return len(l) == 1 && l[0].Scanned > 0 })
	start := time.Now()
	if err := c.Node.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-answer:
		if res.Err == nil || res.Err.Error() != "query canceled" {
			t.Fatalf("a query running when its node stopped: %v %q", res.Err, res.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a query running when its node stopped did not answer within 10 s")
	}
	t.Logf("the query answered %v after the node began to stop", time.Since(start).Round(time.Millisecond))
}

// TestCommandsRunSideBySide: every command enters through the node's
// command actor, which hands each to a worker: while a slow query scans,
// other commands answer at once, and the query is still listed after them.
func TestCommandsRunSideBySide(t *testing.T) {
	if clustertest.Isolated(t, actors.TestScanDelayEnv+"=d.t=1ms") {
		return
	}
	c := clustertest.Start(t, 1)
	loadSlowTable(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	answer := make(chan node.Result, 1)
	go func() {
		answer <- c.Node.Execute(ctx, `sql d format = json:output "select value from t where value < 0"`, node.ExecOptions{})
	}()
	waitQueries(t, "the query to scan", func() bool { l := queriesOn(t, c, ""); return len(l) == 1 && l[0].Scanned > 0 })
	for _, cmd := range []string{"get version", "x = 1", "get databases"} {
		start := time.Now()
		if res := c.Node.Execute(context.Background(), cmd, node.ExecOptions{}); res.Err != nil || time.Since(start) > 2*time.Second {
			t.Fatalf("%s beside a running query: %v after %v", cmd, res.Err, time.Since(start))
		}
	}
	// A second slow query runs beside the first, stopped by its own deadline.
	start := time.Now()
	res := c.Node.Execute(context.Background(), `sql d max_time = 1 seconds "select count(*) from t"`, node.ExecOptions{})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "ran longer than max_time = 1s") || time.Since(start) > 5*time.Second {
		t.Fatalf("a second query beside a running one: %v after %v", res.Err, time.Since(start))
	}
	// The second query's actor leaves the list just after its answer; the
	// first is still listed, and still running.
	waitQueries(t, "the first query alone in get queries", func() bool { return len(queriesOn(t, c, "")) == 1 })
	select {
	case res := <-answer:
		t.Fatalf("the first query ended beside the others: %v %q", res.Err, res.Text)
	default:
	}
	cancel()
	select {
	case res := <-answer:
		if res.Err == nil || res.Err.Error() != "query canceled" {
			t.Fatalf("the first query, canceled by its caller: %v %q", res.Err, res.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first query did not answer within 10 s of its caller going away")
	}
}
