package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/node/pgwire"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// startPG opens the PostgreSQL wire endpoint (--pg) when one is set; its
// sessions end when bg does.
func (n *Node) startPG(bg context.Context) error {
	if n.cfg.PGAddr == "" {
		return nil
	}
	tlsCfg, err := n.cfg.Auth.ServerTLS()
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		// psql and drivers present no client certificate: the token, sent
		// as the password, authenticates them.
		tlsCfg = tlsCfg.Clone()
		tlsCfg.ClientAuth, tlsCfg.ClientCAs = 0, nil
	}
	srv, err := pgwire.New(pgwire.Config{
		Engine: pgEngine{n}, Token: n.cfg.Auth.Token, TLS: tlsCfg,
		MaxConns: n.cfg.PGMaxConns, IdleTimeout: n.cfg.PGIdleTimeout, Logger: n.log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.cfg.PGAddr)
	if err != nil {
		return fmt.Errorf("--pg %s: %w", n.cfg.PGAddr, err)
	}
	n.pgLn, n.pg = ln, srv
	done := make(chan struct{})
	n.pgDone = done
	go func() {
		defer close(done)
		if err := srv.Serve(bg, ln); err != nil {
			n.log.Error("PostgreSQL endpoint stopped", "err", err)
		}
	}()
	return nil
}

// PGAddr is the PostgreSQL endpoint's bound address, or "".
func (n *Node) PGAddr() string {
	if n.pgLn == nil {
		return ""
	}
	return n.pgLn.Addr().String()
}

// pgEngine runs the PostgreSQL sessions' queries as query actors, like
// every other query of the node: get queries lists them and cancel query
// stops them.
type pgEngine struct{ n *Node }

func (e pgEngine) Query(ctx context.Context, q pgwire.Query, w pgwire.RowWriter) error {
	n := e.n
	text := fmt.Sprintf("postgres: sql %s %q", q.DBMS, q.SQL)
	if query, ok := explainOf(q.SQL); ok {
		return e.explain(ctx, q, query, w)
	}
	if q.Cluster {
		return e.cluster(ctx, q, w)
	}
	store, done, err := n.queryStore(q.DBMS, q.SQL)
	if err != nil {
		return err
	}
	defer done()
	var colErr error
	sq := &actors.StreamQuery{Store: store, DBMS: q.DBMS, Query: q.SQL, Options: lsql.Options{Now: q.Now},
		Typed: func(cols []string, types []schema.Type, _ []string) { colErr = w.Columns(pgColumns(cols, types)) },
		Emit: func(r schema.Row) error {
			if colErr != nil {
				return colErr
			}
			return w.Row(r)
		}}
	err = n.runQuery(ctx, text, 0, sq)
	if colErr != nil {
		return colErr
	}
	return unwrapStopped(err)
}

// cluster runs a query of a session with lakenode.scope = cluster the way
// run client () does: on every node hosting the table, merged here.
func (e pgEngine) cluster(ctx context.Context, q pgwire.Query, w pgwire.RowWriter) error {
	n := e.n
	prep, err := lsql.Prepare(ctx, n.store, q.DBMS, q.SQL, lsql.Options{Now: q.Now})
	if err != nil {
		return err
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	res, err := n.QueryCluster(ctx, q.DBMS, q.SQL, now)
	if err != nil {
		return unwrapStopped(err)
	}
	if err := w.Columns(pgColumns(res.Columns, prep.ColumnTypes())); err != nil {
		return err
	}
	for _, r := range res.Rows {
		if err := w.Row(r); err != nil {
			return err
		}
	}
	return nil
}

// unwrapStopped gives a stopped query's own error (its context's cause
// for a cancel) to the session, which tells the client 57014.
func unwrapStopped(err error) error {
	var stopped *actors.QueryStoppedError
	if errors.As(err, &stopped) {
		return fmt.Errorf("query canceled (%v): %w", stopped.Cause, context.Canceled)
	}
	return err
}

func pgColumns(names []string, types []schema.Type) []pgwire.Column {
	cols := make([]pgwire.Column, len(names))
	for i, name := range names {
		cols[i].Name = name
		if i < len(types) {
			cols[i].Type = types[i]
		}
	}
	return cols
}

// explain answers EXPLAIN SELECT ...: the plan's lines in one text column,
// as PostgreSQL does; with lakenode.scope = cluster, the nodes asked too.
func (e pgEngine) explain(ctx context.Context, q pgwire.Query, query string, w pgwire.RowWriter) error {
	var peers []*cluster.Peer
	if q.Cluster {
		if table, err := lsql.TableOf(query); err == nil {
			peers, _ = e.n.members.Load().Hosts(q.DBMS, table)
		}
	}
	lines, err := e.n.explainPlan(ctx, q.DBMS, query, peers, q.Cluster, q.Now)
	if err != nil {
		return err
	}
	if err := w.Columns(explainColumns); err != nil {
		return err
	}
	for _, l := range lines {
		if err := w.Row(schema.Row{schema.Str(l)}); err != nil {
			return err
		}
	}
	return nil
}

var explainColumns = []pgwire.Column{{Name: ExplainColumn, Type: schema.TypeString}}

func (e pgEngine) Describe(ctx context.Context, q pgwire.Query) ([]pgwire.Column, error) {
	if _, ok := explainOf(q.SQL); ok {
		return explainColumns, nil
	}
	store, done, err := e.n.queryStore(q.DBMS, q.SQL)
	if err != nil {
		return nil, err
	}
	defer done()
	prep, err := lsql.Prepare(ctx, store, q.DBMS, q.SQL, lsql.Options{Now: q.Now})
	if err != nil {
		return nil, err
	}
	return pgColumns(prep.ColumnNames(), prep.ColumnTypes()), nil
}

func (e pgEngine) Databases(context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range e.n.store.Tables() {
		if !seen[t.DBMS] {
			seen[t.DBMS] = true
			out = append(out, t.DBMS)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (e pgEngine) Tables(_ context.Context, dbms string) ([]pgwire.TableInfo, error) {
	var out []pgwire.TableInfo
	for _, t := range e.n.store.Tables() {
		if t.DBMS != dbms {
			continue
		}
		ti := pgwire.TableInfo{Name: t.Name}
		for _, c := range t.Columns {
			ti.Columns = append(ti.Columns, pgwire.Column{Name: c.Name, Type: c.Type})
		}
		out = append(out, ti)
	}
	return out, nil
}

func (e pgEngine) Version() string { return e.n.cfg.Version }
