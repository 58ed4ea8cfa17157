// Package clustertest runs several lakenode nodes in one test process, on
// loopback ports, knowing each other as seeds; it runs the sqltest scripts
// on them with rows split over the nodes and queries asked as run client ()
// does.
package clustertest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// Cluster is N in-process nodes, named ct-0, ct-1, ...
type Cluster struct {
	Nodes []*node.Node
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
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	c := &Cluster{}
	for i := range n {
		var seeds []string
		for j, a := range addrs {
			if j != i {
				seeds = append(seeds, a)
			}
		}
		cfg := node.DefaultConfig()
		cfg.Name, cfg.DataDir, cfg.ListenAddr, cfg.Seeds = fmt.Sprintf("ct-%d", i), t.TempDir(), addrs[i], seeds
		nd, err := node.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := nd.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nd.Stop(context.Background()) })
		c.Nodes = append(c.Nodes, nd)
	}
	return c
}

// Load implements sqltest.Engine: row i goes to node i mod N. It returns
// once node 0 knows every node that got rows hosts the table.
func (c *Cluster) Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value) {
	t.Helper()
	parts := make([][][]schema.Value, len(c.Nodes))
	for i, r := range rows {
		parts[i%len(parts)] = append(parts[i%len(parts)], r)
	}
	hosting := 0
	for i, p := range parts {
		if len(p) == 0 {
			continue
		}
		tablestest.Load(t, c.Nodes[i].Store(), dbms, table, cols, p)
		hosting++
	}
	name := dbms + "." + table + " ("
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := c.Nodes[0].Execute(context.Background(), "get nodes", node.ExecOptions{})
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
	res, err := c.Nodes[0].QueryCluster(context.Background(), dbms, query, now)
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}
