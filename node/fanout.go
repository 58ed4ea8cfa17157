package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// defaultMaxTime bounds how long run client () waits for a node.
const defaultMaxTime = cluster.DefaultMaxTime

// clusterQuery is `run client () sql ...`: a query actor scatters the
// partial plan to every node hosting the table (this one and the live peers
// of the seed list) and merges their answers here. If this node does not
// host the table, a peer that does coordinates.
func (n *Node) clusterQuery(ctx context.Context, rc *command.RunClient, q *command.SQL, opts ExecOptions) Result {
	if strings.HasPrefix(q.Options.Dest, "kafka@") && q.Options.Format != "json:output" {
		return failf("dest = %s sends one message per row: use format = json:output", q.Options.Dest)
	}
	query, explain := explainOf(q.Query)
	if !explain {
		query = q.Query
	}
	// The table's own dbms: a qualified name (lakenode.kafka_errors) reads
	// that dbms's table.
	tdbms, table, err := lsql.TableIn(q.DBMS, query)
	if err != nil {
		var se *lsql.Error
		if errors.As(err, &se) {
			return fail(&sqlError{err: se, line: q})
		}
		return fail(err)
	}
	if tdbms == tables.ErrorsDBMS && table == PartitionsTable {
		return n.runSQL(ctx, q, opts) // a system table of this node only
	}
	hosts, lost := n.members.Load().Hosts(tdbms, table)
	if explain {
		if _, local := n.store.Table(tdbms, table); !local {
			return failf("explain: this node does not host %s.%s, so run client () would hand the query to a node that does; explain it there", tdbms, table)
		}
		return n.explainSQL(ctx, q, query, hosts, true, opts)
	}
	if _, local := n.store.Table(tdbms, table); !local {
		return n.forwardClusterQuery(ctx, rc, q, table, hosts, lost, opts)
	}
	if len(hosts) == 0 && len(lost) == 0 {
		return n.runSQL(ctx, q, opts)
	}
	var sx *sinceExport
	if q.Options.SinceLast {
		if sx, err = n.openSince(ctx, q, opts); err != nil {
			return fail(err)
		}
		defer sx.close()
	}
	maxTime := q.Options.MaxTime
	if maxTime <= 0 {
		maxTime = defaultMaxTime
	}
	if rc.Timeout > 0 {
		maxTime = rc.Timeout
	}
	start := time.Now()
	w := &actors.ScatterQuery{Store: n.store, Node: n.cfg.Name, DBMS: q.DBMS, Query: q.Query, Table: table, Hosts: hosts, Lost: lost, Subset: rc.Subset, Wait: maxTime, Now: start}
	if sx != nil {
		w.Since = sx.last
	}
	if !strings.HasPrefix(q.Options.Dest, "kafka@") && !streamable(q.Options.Format, q.Options.Dest, opts) {
		// This node's share of a reply built whole stops at the cap; the
		// merged answer is checked when it is rendered.
		w.MaxRows = n.cfg.MaxResultRows
	}
	if err := n.runQuery(ctx, "run client () "+sqlText(q), maxTime, w); err != nil {
		return n.scatterFailed(q, err, maxTime)
	}
	if sx != nil {
		for name, upto := range w.UpTo {
			sx.next[name] = upto
		}
	}
	res := w.Result
	cs := clusterStats{nodes: w.Stats.Nodes, target: w.Stats.Target, missing: w.Stats.Missing}
	for _, t := range w.Stats.Times {
		cs.times = append(cs.times, output.NodeTime{Name: t.Name, Elapsed: t.Elapsed})
	}
	if len(cs.missing) > 0 {
		res.Notices = append(res.Notices, fmt.Sprintf("partial answer: no reply from %v", cs.missing))
	}
	return n.renderSQL(ctx, q, res, start, cs, opts, sx)
}

// scatterFailed is the reply of a run client () query that failed.
func (n *Node) scatterFailed(q *command.SQL, err error, maxTime time.Duration) Result {
	var se *lsql.Error
	var tm *lsql.TooManyRowsError
	var stopped *actors.QueryStoppedError
	switch {
	case errors.As(err, &se):
		return fail(&sqlError{err: se, line: q})
	case errors.As(err, &tm):
		return tooManyRows(tm.Max, q.Options.Format)
	case errors.As(err, &stopped) && stopped.Deadline():
		return failf("run client (): this node's share ran longer than %v (max_time or timeout)", maxTime)
	case errors.As(err, &stopped):
		return canceled(stopped)
	}
	return fail(err)
}

// forwardClusterQuery lets a node that hosts the table coordinate a run
// client () query this node cannot.
func (n *Node) forwardClusterQuery(ctx context.Context, rc *command.RunClient, q *command.SQL, table string, hosts, lost []*cluster.Peer, opts ExecOptions) Result {
	if len(hosts) == 0 {
		if len(lost) > 0 {
			return failf("run client (): table %s.%s is only on nodes that stopped answering: %v", q.DBMS, table, cluster.Names(lost))
		}
		return failf("run client (): no node hosts table %s.%s", q.DBMS, table)
	}
	id := cluster.RequestID()
	rep, err := cluster.Ask(ctx, n.sys, n.log, actor.NewPID(hosts[0].Address, CommandActorName), &actorpb.CommandRequest{Line: "run client () " + rc.Command, Terminal: opts.Terminal && !opts.REST, Job: opts.Job, Id: id}, id, defaultMaxTime+5*time.Second)
	if ctx.Err() != nil {
		return failf("query canceled")
	}
	if err != nil {
		return failf("run client (): node %s did not answer: %v", hosts[0].Name, err)
	}
	cr, ok := rep.(*actorpb.CommandReply)
	if !ok {
		return internal(fmt.Errorf("run client (): unexpected reply %T", rep))
	}
	if cr.Error != "" {
		return Result{Err: errors.New(cr.Error), Notices: cr.Notices, Internal: cr.Internal}
	}
	return Result{Text: cr.Text, JSON: cr.Json, Notices: cr.Notices}
}

// QueryCluster runs query the way `run client () sql DBMS "query"` does
// (every live node hosting the table, merged here), with now() = now, and
// returns the merged answer. This node must host the table. It is the entry
// point of the cluster's SQL behaviour tests.
func (n *Node) QueryCluster(ctx context.Context, dbms, query string, now time.Time) (*lsql.Result, error) {
	table, err := lsql.TableOf(query)
	if err != nil {
		return nil, err
	}
	hosts, lost := n.members.Load().Hosts(dbms, table)
	w := &actors.ScatterQuery{Store: n.store, Node: n.cfg.Name, DBMS: dbms, Query: query, Table: table, Hosts: hosts, Lost: lost, Wait: defaultMaxTime, Now: now}
	if err := n.runQuery(ctx, fmt.Sprintf("run client () sql %s %q", dbms, query), defaultMaxTime, w); err != nil {
		return nil, err
	}
	return w.Result, nil
}

// runQuery runs work as a query actor under the queries supervisor, listed
// by get queries as text, stopped when ctx ends or maxTime (if positive)
// passes.
func (n *Node) runQuery(ctx context.Context, text string, maxTime time.Duration, work actors.QueryWork) error {
	return actors.RunQuery(n.sys, n.queries, actors.QuerySpec{
		Text: clip(command.Redact(text), caretContext), Origin: n.cfg.Name, Parent: ctx, MaxTime: maxTime, Logger: n.log, Work: work,
		Progress: output.ProgressFrom(ctx),
	})
}

// canceled is the reply of a query stopped before its end (not by its
// deadline).
func canceled(stopped *actors.QueryStoppedError) Result {
	if errors.Is(stopped.Cause, actors.ErrCancelQuery) {
		return failf("query canceled (%v)", stopped.Cause)
	}
	return failf("query canceled")
}

type clusterStats struct {
	nodes, target int
	missing       []string
	times         []output.NodeTime
}
