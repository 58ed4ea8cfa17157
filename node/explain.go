package node

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// ExplainColumn is the one column of an explain's answer, as PostgreSQL
// names it.
const ExplainColumn = "QUERY PLAN"

// explainOf returns the query after a leading `explain`.
func explainOf(query string) (string, bool) {
	q := strings.TrimLeftFunc(query, unicode.IsSpace)
	if len(q) < 8 || !strings.EqualFold(q[:7], "explain") || !unicode.IsSpace(rune(q[7])) {
		return "", false
	}
	return strings.TrimSpace(q[7:]), true
}

// explainPlan plans query (without running it) and returns its plan's
// lines; with peers (run client ()), the nodes that would be asked.
func (n *Node) explainPlan(ctx context.Context, dbms, query string, peers []*cluster.Peer, cluster bool, now time.Time) ([]string, error) {
	store, done, err := n.queryStore(dbms, query)
	if err != nil {
		return nil, err
	}
	defer done()
	p, err := lsql.Prepare(ctx, store, dbms, query, lsql.Options{Now: now})
	if err != nil {
		return nil, err
	}
	lines := p.Explain()
	if cluster {
		nodes := []string{n.cfg.Name + " (this node, which merges)"}
		for _, pe := range peers {
			nodes = append(nodes, pe.Name+" at "+pe.Address)
		}
		lines = append(lines, "Nodes asked: "+strings.Join(nodes, ", "))
	}
	return lines, nil
}

// explainSQL answers `sql DBMS "explain select ..."` (and, with cluster,
// `run client () sql ...`): the plan as rows of one column, in the asked
// format. Nothing is scanned.
func (n *Node) explainSQL(ctx context.Context, q *command.SQL, query string, peers []*cluster.Peer, cluster bool, opts ExecOptions) Result {
	lines, err := n.explainPlan(ctx, q.DBMS, query, peers, cluster, time.Now())
	if err != nil {
		var se *lsql.Error
		if errors.As(err, &se) {
			return fail(&sqlError{err: se, line: q, pos: se.Pos})
		}
		return fail(err)
	}
	rows := make([]schema.Row, len(lines))
	for i, l := range lines {
		rows[i] = schema.Row{schema.Str(l)}
	}
	format := q.Options.Format
	var b strings.Builder
	qr := output.QueryResult{Columns: []string{ExplainColumn}, Rows: rows}
	if err := output.RenderQuery(&b, qr, output.QueryFormat{Kind: format, Pretty: opts.Terminal && !opts.REST}); err != nil {
		return internal(err)
	}
	return Result{Text: b.String(), JSON: format != "table" && format != "csv", CSV: format == "csv"}
}
