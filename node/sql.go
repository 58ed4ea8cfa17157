package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// runSQL answers `sql DBMS [options] "SELECT ..."` on this node.
func (n *Node) runSQL(ctx context.Context, q *command.SQL, opts ExecOptions) Result {
	o := q.Options
	if strings.HasPrefix(o.Dest, "kafka@") {
		return failf("not supported by lakenode yet: dest = %s (exports to Kafka are a later step)", o.Dest)
	}
	loc, err := location(o.Timezone)
	if err != nil {
		return fail(err)
	}
	if o.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.MaxTime)
		defer cancel()
	}
	start := time.Now()
	res, err := lsql.Query(ctx, n.store, q.DBMS, q.Query, lsql.Options{Now: start})
	if err != nil {
		var se *lsql.Error
		if errors.As(err, &se) {
			// Point into the command line, not only the statement.
			return fail(&sqlError{err: se, line: q, pos: se.Pos})
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.MaxTime > 0 {
				return failf("query stopped: it ran longer than max_time = %v", o.MaxTime)
			}
			return failf("query canceled")
		}
		return internal(err)
	}
	qr := output.QueryResult{Columns: res.Columns, Rows: res.Rows, Stats: output.QueryStats{
		Count: int64(len(res.Rows)), Elapsed: time.Since(start), Nodes: 1, RowsScanned: res.Scanned, ShowScanned: o.Stat,
	}}
	var buf bytes.Buffer
	f := output.QueryFormat{Kind: o.Format, Pretty: opts.Terminal && !opts.REST, Stat: o.Stat, Loc: loc}
	if err := output.RenderQuery(&buf, qr, f); err != nil {
		return internal(err)
	}
	out := Result{Text: buf.String(), JSON: o.Format != "table", Notices: res.Notices}
	if o.Dest == "file" {
		if err := os.WriteFile(o.File, buf.Bytes(), 0o644); err != nil {
			return failf("dest = file: %v", err)
		}
		out.Text = fmt.Sprintf("%d rows written to %s", len(res.Rows), o.File)
		out.JSON = false
	}
	return out
}

func location(tz string) (*time.Location, error) {
	switch strings.ToLower(tz) {
	case "", "utc":
		return time.UTC, nil
	case "local":
		return time.Local, nil
	case "pt":
		tz = "America/Los_Angeles"
	case "mt":
		tz = "America/Denver"
	case "ct":
		tz = "America/Chicago"
	case "et":
		tz = "America/New_York"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timezone = %s: unknown time zone (use utc, local, pt, mt, ct, et or a name such as Europe/Paris)", tz)
	}
	return loc, nil
}

// sqlError is a SQL error shown with a caret under its place in the
// statement.
type sqlError struct {
	err  *lsql.Error
	line *command.SQL
	pos  int
}

func (e *sqlError) Error() string { return "SQL error: " + e.err.Msg }

// Caret shows the statement with a caret under the offending token.
func (e *sqlError) Caret() string { return e.err.Caret() }
