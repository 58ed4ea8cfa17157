// Package clustertest runs clusters of lakenode nodes for tests, on
// loopback ports, knowing each other: the first node in the test process,
// the others in processes of their own, so that the race detector covers
// them all. It runs the sqltest scripts on them with rows split over the
// nodes and queries asked as run client () does.
package clustertest

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// Cluster is N nodes named ct-0, ct-1, ...: the first, Node, runs in the
// test process, the others in processes of their own (see proc.go). A
// package whose tests start clusters has clustertest.Main as its TestMain.
type Cluster struct {
	Node  *node.Node
	procs []*nodeProc
	// Seal says how Load seals each node's share (node i: Seal[i mod
	// len]); none when empty.
	Seal []tablestest.Sealing
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// Start starts n nodes that know each other; they stop when the test ends.
// The nodes start without seeds and join each other once all of them
// listen. A test process calls it once (see Isolated).
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	cfg := node.DefaultConfig()
	cfg.Name, cfg.DataDir, cfg.ListenAddr = "ct-0", t.TempDir(), addrs[0]
	nd, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := nd.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nd.Stop(context.Background()) })
	c := &Cluster{Node: nd}
	for i := 1; i < n; i++ {
		c.procs = append(c.procs, startNodeProc(t, nodeConfig{Name: fmt.Sprintf("ct-%d", i), DataDir: t.TempDir(), Listen: addrs[i]}))
	}
	nd.Join(addrs[1:]...)
	for i, p := range c.procs {
		var others []string
		for j, a := range addrs {
			if j != i+1 {
				others = append(others, a)
			}
		}
		p.do("join " + strings.Join(others, " "))
	}
	return c
}

// childEnv names, in a child test process that Isolated started, the test
// it runs.
const childEnv = "LAKENODE_CLUSTERTEST_CHILD"

// Isolated runs the calling test (or subtest) in a test process of its own,
// with env ("NAME=VALUE") added to its environment, and reports whether it
// did: the caller then returns, its outcome being the child's. In the child
// it returns false and the test runs. A test that starts a cluster calls it
// first: a process runs one cluster's first node (see proc.go), and the
// test hooks that a node reads from its environment at start-up are set so.
func Isolated(t *testing.T, env ...string) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return false
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	args := []string{"-test.run", strings.Join(parts, "/"), "-test.count=1", "-test.v"}
	if f := flag.Lookup("test.timeout"); f != nil {
		args = append(args, "-test.timeout="+f.Value.String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), childEnv+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in its own process: %v\n%s", t.Name(), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" (") {
		t.Fatalf("%s in its own process did not run:\n%s", t.Name(), out)
	}
	t.Logf("%s ran in its own process:\n%s", t.Name(), out)
	return true
}

// Load implements sqltest.Engine: row i goes to node i mod N. It returns
// once node 0 knows every node that got rows hosts the table.
func (c *Cluster) Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value) {
	t.Helper()
	parts := make([][][]schema.Value, len(c.procs)+1)
	for i, r := range rows {
		parts[i%len(parts)] = append(parts[i%len(parts)], r)
	}
	hosting := 0
	for i, p := range parts {
		if len(p) == 0 {
			continue
		}
		seal := tablestest.SealNone
		if len(c.Seal) > 0 {
			seal = c.Seal[i%len(c.Seal)]
		}
		if i == 0 {
			tablestest.LoadSealed(t, c.Node.Store(), dbms, table, cols, p, seal)
		} else {
			c.procs[i-1].load(dbms, table, cols, p, seal)
		}
		hosting++
	}
	name := dbms + "." + table + " ("
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := c.Node.Execute(context.Background(), "get nodes", node.ExecOptions{})
		if res.Err == nil && strings.Count(res.Text, name) >= hosting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clustertest: node 0 does not see %s on %d nodes after 30 s:\n%s", name, hosting, res.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Query implements sqltest.Engine: the query as run client () runs it from
// node 0, with now() = now.
func (c *Cluster) Query(t testing.TB, dbms, query string, now time.Time) ([]string, []schema.Row, error) {
	res, err := c.Node.QueryCluster(context.Background(), dbms, query, now)
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}
