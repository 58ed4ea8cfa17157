package node

import (
	"fmt"
	"strconv"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// listQueries asks the queries supervisor for the running queries.
func (n *Node) listQueries() ([]actors.QueryInfo, error) {
	res, err := n.sys.Root.RequestFuture(n.queries, &actors.ListQueries{}, 5*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("listing the running queries: %w", err)
	}
	l, ok := res.(*actors.QueryList)
	if !ok {
		return nil, fmt.Errorf("listing the running queries: unexpected reply %T", res)
	}
	return l.Queries, nil
}

// getQueries is `get queries`: the queries running on this node, with its
// shares of other nodes' run client () queries.
func (n *Node) getQueries(g *command.Get, opts ExecOptions) Result {
	qs, err := n.listQueries()
	if err != nil {
		return internal(err)
	}
	now := time.Now()
	tbl := output.Table{Header: [][]string{{"ID", "Node", "Kind", "Elapsed", "Rows scanned", "Command"}}}
	objs := []*output.Object{}
	for _, q := range qs {
		kind := "query"
		if q.Share {
			kind = "share"
		}
		elapsed := now.Sub(q.Started).Round(time.Millisecond)
		tbl.Rows = append(tbl.Rows, []string{strconv.FormatUint(q.ID, 10), q.Origin, kind, elapsed.String(), strconv.FormatInt(q.Scanned, 10), q.Text})
		objs = append(objs, (&output.Object{}).Set("id", int64(q.ID)).Set("node", q.Origin).Set("kind", kind).
			Set("elapsed_ms", elapsed.Milliseconds()).Set("rows_scanned", q.Scanned).Set("command", q.Text))
	}
	if len(qs) == 0 && !g.JSON {
		return text("No queries are running\n")
	}
	return n.render(g, opts, tbl, objs)
}

// cancelQuery is `cancel query ID`.
func (n *Node) cancelQuery(r *command.CancelQuery) Result {
	res, err := n.sys.Root.RequestFuture(n.queries, &actors.CancelQuery{ID: r.ID}, 5*time.Second).Result()
	if err != nil {
		return internal(fmt.Errorf("canceling query %d: %w", r.ID, err))
	}
	if c, ok := res.(*actors.QueryCanceled); !ok || !c.Found {
		return failf("cancel query %d: no such query is running (see get queries)", r.ID)
	}
	return text(fmt.Sprintf("query %d canceled", r.ID))
}

// stopQueries stops the running queries (each caller gets its "query
// canceled") and the queries supervisor, as the node stops.
func (n *Node) stopQueries() {
	if err := n.sys.Root.StopFuture(n.queries).Wait(); err != nil {
		n.log.Warn("stopping the running queries", "err", err)
	}
}
