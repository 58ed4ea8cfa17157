package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// runSQL answers `sql DBMS [options] "SELECT ..."` on this node.
func (n *Node) runSQL(ctx context.Context, q *command.SQL, opts ExecOptions) Result {
	o := q.Options
	if query, ok := explainOf(q.Query); ok {
		return n.explainSQL(ctx, q, query, nil, false, opts)
	}
	if strings.HasPrefix(o.Dest, "kafka@") && o.Format != "json:output" {
		return failf("dest = %s sends one message per row: use format = json:output", o.Dest)
	}
	if _, err := location(o.Timezone); err != nil {
		return fail(err)
	}
	start := time.Now()
	lopt := lsql.Options{Now: start}
	var sx *sinceExport
	if o.SinceLast {
		var err error
		if sx, err = n.openSince(ctx, q, opts); err != nil {
			return fail(err)
		}
		defer sx.close()
		table, _ := lsql.TableOf(q.Query)
		lopt.Commits = actors.LocalCommits(n.store, q.DBMS, table, sx.last[n.cfg.Name])
		sx.next[n.cfg.Name] = lopt.Commits.UpTo
	}
	store, done, err := n.queryStore(q.DBMS, q.Query)
	if err != nil {
		return fail(err)
	}
	defer done()
	if streamable(o.Format, o.Dest, opts) {
		return n.streamSQL(ctx, store, q, lopt, start, opts)
	}
	if o.Dest == "file" && streamedFormat(o.Format) && sx == nil {
		return n.streamSQLToFile(ctx, store, q, lopt, start)
	}
	if !strings.HasPrefix(o.Dest, "kafka@") {
		// A reply built whole is bounded; an export is not.
		lopt.MaxRows = n.cfg.MaxResultRows
	}
	w := &actors.LocalQuery{Store: store, DBMS: q.DBMS, Query: q.Query, Options: lopt}
	if err := n.runQuery(ctx, sqlText(q), o.MaxTime, w); err != nil {
		return n.queryFailed(q, err)
	}
	return n.renderSQL(ctx, q, w.Result, start, clusterStats{nodes: 1, target: 1}, opts, sx)
}

// queryFailed is the reply of a query that failed on this node.
func (n *Node) queryFailed(q *command.SQL, err error) Result {
	o := q.Options
	var se *lsql.Error
	var tm *lsql.TooManyRowsError
	var stopped *actors.QueryStoppedError
	switch {
	case errors.As(err, &se):
		// Point into the command line, not only the statement.
		return fail(&sqlError{err: se, line: q, pos: se.Pos})
	case errors.As(err, &tm):
		return tooManyRows(tm.Max, o.Format)
	case isStreamWrite(err):
		return fail(err)
	case errors.As(err, &stopped) && stopped.Deadline() && o.MaxTime > 0:
		return failf("query stopped: it ran longer than max_time = %v", o.MaxTime)
	case errors.As(err, &stopped):
		return canceled(stopped)
	}
	return internal(err)
}

// streamSQL runs a json:output query on this node and streams its rows as
// the scan produces them (see stream.go).
func (n *Node) streamSQL(ctx context.Context, store *tables.Store, q *command.SQL, lopt lsql.Options, start time.Time, opts ExecOptions) Result {
	o := q.Options
	loc, err := location(o.Timezone)
	if err != nil {
		return fail(err)
	}
	enc := newRowEncoder(o.Format, loc)
	st := &rowStream{begin: opts.Stream, ctype: enc.contentType()}
	var buf []byte
	w := &actors.StreamQuery{Store: store, DBMS: q.DBMS, Query: q.Query, Options: lopt,
		Prepared: func(columns, notices []string) { enc.cols, st.notices = columns, notices },
		Emit: func(row schema.Row) error {
			buf = enc.row(buf[:0], row)
			return st.write(buf)
		}}
	err = n.runQuery(ctx, sqlText(q), o.MaxTime, w)
	return n.endStream(q, st, enc, err, output.QueryStats{Count: w.Rows, Elapsed: time.Since(start), Nodes: 1, RowsScanned: w.Scanned, ShowScanned: o.Stat})
}

// streamSQLToFile runs a json:output or csv query on this node and writes
// its rows to the file as the scan produces them, so a result of any size
// goes to disk without being held whole (nor bounded by
// --max-result-rows). The file appears, replaced whole, once the query
// succeeded; a failed query leaves what the file held.
func (n *Node) streamSQLToFile(ctx context.Context, store *tables.Store, q *command.SQL, lopt lsql.Options, start time.Time) Result {
	o := q.Options
	loc, err := location(o.Timezone)
	if err != nil {
		return fail(err)
	}
	enc := newRowEncoder(o.Format, loc)
	var notices []string
	var rows int64
	var qerr error
	werr := n.files.WriteStream(o.File, func(w io.Writer) error {
		var buf []byte
		sq := &actors.StreamQuery{Store: store, DBMS: q.DBMS, Query: q.Query, Options: lopt,
			Prepared: func(columns, ns []string) { enc.cols, notices = columns, ns },
			Emit: func(row schema.Row) error {
				buf = enc.row(buf[:0], row)
				_, err := w.Write(buf)
				return err
			}}
		if qerr = n.runQuery(ctx, sqlText(q), o.MaxTime, sq); qerr != nil {
			return qerr
		}
		rows = sq.Rows
		stats := output.QueryStats{Count: sq.Rows, Elapsed: time.Since(start), Nodes: 1, RowsScanned: sq.Scanned, ShowScanned: o.Stat}
		_, err := io.WriteString(w, enc.tail(o.Stat, stats))
		return err
	})
	switch {
	case qerr != nil:
		return n.queryFailed(q, qerr)
	case werr != nil:
		return failf("dest = file: %v", werr)
	}
	return Result{Text: fmt.Sprintf("%d rows written to %s", rows, n.files.Display(o.File)), Notices: notices}
}

// streamRows writes a json:output or csv reply of rows already computed
// to the caller's stream.
func (n *Node) streamRows(q *command.SQL, opts ExecOptions, notices []string, loc *time.Location, rows []schema.Row, cols []string, stats output.QueryStats) Result {
	enc := newRowEncoder(q.Options.Format, loc)
	enc.cols = cols
	st := &rowStream{begin: opts.Stream, notices: notices, ctype: enc.contentType()}
	var buf []byte
	var err error
	for _, row := range rows {
		buf = enc.row(buf[:0], row)
		if err = st.write(buf); err != nil {
			break
		}
	}
	return n.endStream(q, st, enc, err, stats)
}

// endStream ends a streamed reply: the error, or the encoder's tail (the
// Statistics line or the empty reply; csv's header when no row came). A
// reply with no rows, or that failed before its first row, comes back
// whole, as an unstreamed one does.
func (n *Node) endStream(q *command.SQL, st *rowStream, enc *rowEncoder, err error, stats output.QueryStats) Result {
	if err != nil {
		res := n.queryFailed(q, err)
		if st.started {
			_ = st.flush()
			res.Streamed, res.Notices = true, nil
		} else {
			res.Notices = append(st.notices, res.Notices...)
		}
		return res
	}
	tail := enc.tail(q.Options.Stat, stats)
	if !st.started {
		return Result{Text: tail, JSON: !enc.csv, CSV: enc.csv, Notices: st.notices}
	}
	if tail != "" {
		if err := st.write([]byte(tail)); err != nil {
			return Result{Err: err, Streamed: true}
		}
	}
	if err := st.flush(); err != nil {
		return Result{Err: err, Streamed: true}
	}
	return Result{JSON: true, Streamed: true}
}

// renderSQL prints, writes or exports a query's answer.
func (n *Node) renderSQL(ctx context.Context, q *command.SQL, res *lsql.Result, start time.Time, cs clusterStats, opts ExecOptions, sx *sinceExport) Result {
	o := q.Options
	loc, err := location(o.Timezone)
	if err != nil {
		return fail(err)
	}
	qr := output.QueryResult{Columns: res.Columns, Rows: res.Rows, Stats: output.QueryStats{
		Count: int64(len(res.Rows)), Elapsed: time.Since(start), Nodes: cs.nodes, Target: cs.target, Missing: cs.missing,
		RowsScanned: res.Scanned, ShowScanned: o.Stat, NodeTimes: cs.times,
	}}
	if strings.HasPrefix(o.Dest, "kafka@") {
		return n.exportToKafka(ctx, o, qr, loc, res.Notices, sx)
	}
	if streamable(o.Format, o.Dest, opts) {
		st := qr.Stats
		st.Elapsed = time.Since(start)
		return n.streamRows(q, opts, res.Notices, loc, res.Rows, res.Columns, st)
	}
	if max := n.cfg.MaxResultRows; max > 0 && int64(len(res.Rows)) > max {
		return tooManyRows(max, o.Format)
	}
	var buf bytes.Buffer
	f := output.QueryFormat{Kind: o.Format, Pretty: opts.Terminal && !opts.REST, Stat: o.Stat, Loc: loc}
	if err := output.RenderQuery(&buf, qr, f); err != nil {
		return internal(err)
	}
	out := Result{Text: buf.String(), JSON: o.Format != "table" && o.Format != "csv", CSV: o.Format == "csv", Notices: res.Notices}
	if o.Dest == "file" {
		if err := n.files.WriteFile(o.File, buf.Bytes()); err != nil {
			return failf("dest = file: %v", err)
		}
		out.Text = fmt.Sprintf("%d rows written to %s", len(res.Rows), n.files.Display(o.File))
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

// exportToKafka sends one message per result row (the row's JSON exactly as
// json:output prints it, keyed by the key = COLUMN value if given), plus
// EdgeLake's statistics message with stat = true, or its empty-set reply for
// no rows with stat = false (exportRecords). It reports success only once
// every message is acknowledged. With sx (since = last) the messages go out
// in one transaction that records the commits they cover; a run with no new
// rows sends nothing.
func (n *Node) exportToKafka(ctx context.Context, o command.SQLOptions, qr output.QueryResult, loc *time.Location, notices []string, sx *sinceExport) Result {
	broker, topic := strings.TrimPrefix(o.Dest, "kafka@"), o.Topic
	sec, err := n.kafkaSecurity(o.Kafka)
	if err != nil {
		return failf("export to topic %s at %s: %v", topic, broker, err)
	}
	notices = append(notices, command.SecurityNotices(o.Kafka)...)
	keys, values, err := exportRecords(qr, o.Key, o.Stat, sx != nil, loc)
	if err != nil {
		return failf("export to topic %s at %s: %v", topic, broker, err)
	}
	if len(values) == 0 {
		return Result{Text: `{"Reply" : "Query output send to kafka", "Rows" : 0}`, JSON: true, Notices: notices}
	}
	n.exportsMu.Lock()
	n.nextExport++
	id := n.nextExport
	n.exports[id] = fmt.Sprintf("sending %d messages to topic %s at %s", len(values), topic, broker)
	n.exportsMu.Unlock()
	defer func() {
		n.exportsMu.Lock()
		delete(n.exports, id)
		n.exportsMu.Unlock()
	}()
	xs := actors.ExportSpec{ID: id, Brokers: []string{broker}, Topic: topic, Keys: keys, Values: values, Logger: n.log, Security: sec, Compression: o.Compression}
	if sx != nil {
		xs.Txn, xs.Commits = sx.x, sx.next
	}
	done, err := n.tree.Export(xs, 6*time.Minute)
	if err != nil {
		return internal(fmt.Errorf("export to %s: %w", broker, err))
	}
	if done.Err != nil {
		return failf("export of %d rows to topic %s at %s failed, nothing is reported as sent: %v", len(qr.Rows), topic, broker, done.Err)
	}
	return Result{Text: fmt.Sprintf(`{"Reply" : "Query output send to kafka", "Rows" : %d}`, len(qr.Rows)), JSON: true, Notices: notices}
}

// sqlText is how get queries shows a query.
func sqlText(q *command.SQL) string { return fmt.Sprintf("sql %s %q", q.DBMS, q.Query) }
