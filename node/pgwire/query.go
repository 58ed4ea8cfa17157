package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/lakenode/lakenode/tables/schema"
)

type stmtKind int

const (
	kindQuery stmtKind = iota
	kindSet
	kindReset
	kindShow
	kindBegin
	kindCommit
	kindRollback
	kindNoop // accepted, nothing to do: DISCARD, DEALLOCATE, CLOSE
	kindWrite
	kindExplain // EXPLAIN SELECT ...: the engine answers with the plan
	kindUnsupported
)

// classify says what a statement is by its first words.
func classify(text string) (stmtKind, string) {
	w := firstWords(text, 2)
	if len(w) == 0 {
		return kindUnsupported, ""
	}
	tag := strings.ToUpper(w[0])
	switch w[0] {
	case "select", "with", "values", "table":
		return kindQuery, "SELECT"
	case "explain":
		return kindExplain, "EXPLAIN"
	case "set":
		return kindSet, "SET"
	case "reset":
		return kindReset, "RESET"
	case "show":
		return kindShow, "SHOW"
	case "begin", "start":
		return kindBegin, "BEGIN"
	case "commit", "end":
		return kindCommit, "COMMIT"
	case "rollback", "abort":
		return kindRollback, "ROLLBACK"
	case "discard":
		return kindNoop, "DISCARD ALL"
	case "deallocate", "close":
		return kindNoop, tag
	case "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "copy", "grant", "revoke", "comment", "vacuum", "analyze", "refresh", "reindex", "cluster", "lock":
		return kindWrite, tag
	}
	return kindUnsupported, tag
}

// simpleQuery runs a Query message's statements, stopping at the first
// error.
func (s *session) simpleQuery(ctx context.Context, text string) {
	stmts := splitStatements(text)
	if len(stmts) == 0 {
		s.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, st := range stmts {
		sink := &rowSink{s: s, sendDesc: true}
		tag, err := s.statement(ctx, st, nil, sink)
		if err != nil {
			s.sendError(err)
			return
		}
		s.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	}
}

// statement runs one statement with its parameters' literals and returns
// its command tag.
func (s *session) statement(ctx context.Context, text string, params []string, w RowWriter) (string, *pgError) {
	kind, tag := classify(text)
	if s.tx == 'E' && kind != kindRollback && kind != kindCommit {
		return "", &pgError{Code: "25P02", Msg: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	switch kind {
	case kindBegin:
		s.tx = 'T'
	case kindCommit:
		if s.tx == 'E' {
			tag = "ROLLBACK"
		}
		s.tx = 'I'
	case kindRollback:
		s.tx = 'I'
	case kindNoop:
	case kindSet:
		if err := s.setStatement(text); err != nil {
			return "", toPG(err, text, nil)
		}
	case kindReset:
		s.resetStatement(text)
	case kindShow:
		return tag, s.show(text, w)
	case kindWrite:
		return "", &pgError{Code: codeReadOnly, Msg: fmt.Sprintf("cannot execute %s in a read-only transaction: lakenode's tables are written by its Kafka consumers", tag)}
	case kindQuery:
		n, err := s.query(ctx, text, params, w)
		if err != nil {
			return "", err
		}
		return "SELECT " + strconv.FormatInt(n, 10), nil
	case kindExplain:
		// The engine answers EXPLAIN SELECT ... with the plan's lines.
		if _, err := s.query(ctx, text, params, w); err != nil {
			return "", err
		}
	default:
		return "", &pgError{Code: codeNotSupported, Msg: fmt.Sprintf("%s is not supported: lakenode answers SELECT, SET, SHOW, BEGIN and COMMIT", tag)}
	}
	return tag, nil
}

var setRE = regexp.MustCompile(`(?is)^\s*set\s+(?:(?:session|local)\s+)?(time\s+zone|names|[a-z_][a-z0-9_.]*)\s*(?:=|\s+to\s+|\s)\s*(.*?)\s*;?\s*$`)

func (s *session) setStatement(text string) error {
	lower := strings.ToLower(strings.Join(strings.Fields(text), " "))
	if strings.HasPrefix(lower, "set session characteristics as transaction") || strings.HasPrefix(lower, "set transaction") {
		if strings.Contains(lower, "read write") {
			return &pgError{Code: codeReadOnly, Msg: "lakenode sessions are read-only"}
		}
		return nil
	}
	m := setRE.FindStringSubmatch(text)
	if m == nil {
		return &pgError{Code: codeSyntax, Msg: "syntax error in SET: use SET name = value"}
	}
	name := strings.ToLower(strings.Join(strings.Fields(m[1]), " "))
	return s.set(name, m[2])
}

func (s *session) resetStatement(text string) {
	w := firstWords(text, 2)
	if len(w) < 2 {
		return
	}
	if w[1] == "all" {
		for k, v := range defaultSettings {
			_ = s.set(k, v)
		}
		return
	}
	if v, ok := defaultSettings[w[1]]; ok {
		_ = s.set(w[1], v)
	}
}

// show answers SHOW name and SHOW ALL.
func (s *session) show(text string, w RowWriter) *pgError {
	words := firstWords(text, 3)
	if len(words) < 2 {
		return &pgError{Code: codeSyntax, Msg: "syntax error in SHOW: use SHOW name"}
	}
	name := words[1]
	if name == "time" && len(words) == 3 && words[2] == "zone" {
		name = "timezone"
	}
	if name == "all" {
		keys := make([]string, 0, len(s.settings))
		for k := range s.settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		rows := make([]schema.Row, len(keys))
		for i, k := range keys {
			rows[i] = schema.Row{schema.Str(k), schema.Str(s.settings[k]), schema.Str("")}
		}
		return writeAll(w, []Column{{"name", schema.TypeString}, {"setting", schema.TypeString}, {"description", schema.TypeString}}, rows)
	}
	v, ok := s.settings[name]
	if !ok {
		return &pgError{Code: "42704", Msg: fmt.Sprintf("unrecognized configuration parameter %q", name)}
	}
	return writeAll(w, []Column{{name, schema.TypeString}}, []schema.Row{{schema.Str(v)}})
}

func writeAll(w RowWriter, cols []Column, rows []schema.Row) *pgError {
	if err := w.Columns(cols); err != nil {
		return toPG(err, "", nil)
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			return toPG(err, "", nil)
		}
	}
	return nil
}

// countingWriter counts the rows that pass through.
type countingWriter struct {
	RowWriter
	n int64
}

func (c *countingWriter) Row(r schema.Row) error {
	c.n++
	return c.RowWriter.Row(r)
}

// query runs a SELECT: the ones lakenode answers itself (version(),
// catalog queries), or the engine's.
func (s *session) query(ctx context.Context, text string, params []string, w RowWriter) (int64, *pgError) {
	cw := &countingWriter{RowWriter: w}
	if catalogRE.MatchString(text) {
		ans, perr := s.catalog(ctx, text, params)
		if perr == nil {
			perr = writeAll(cw, ans.cols, ans.rows)
		}
		return cw.n, perr
	}
	tr, err := translate(text, params)
	if err != nil {
		return 0, toPG(err, text, nil)
	}
	if ans, ok, perr := s.local(tr.SQL); ok || perr != nil {
		if perr != nil {
			return 0, perr
		}
		if perr := writeAll(cw, ans.cols, ans.rows); perr != nil {
			return 0, perr
		}
		return cw.n, nil
	}
	qctx, done := s.queryContext(ctx)
	defer done()
	if err := s.srv.cfg.Engine.Query(qctx, s.engineQuery(tr.SQL), cw); err != nil {
		if qctx.Err() != nil && ctx.Err() == nil {
			return 0, &pgError{Code: codeCanceled, Msg: "canceling statement due to user request"}
		}
		return 0, toPG(err, text, &tr)
	}
	return cw.n, nil
}

func (s *session) engineQuery(sql string) Query {
	return Query{DBMS: s.dbms, SQL: sql, Cluster: s.cluster, Now: s.now}
}

// describe returns the columns a statement answers with (none for a
// statement without rows), its parameters taken as NULL.
func (s *session) describe(ctx context.Context, st *prepared) ([]Column, *pgError) {
	kind, _ := classify(st.text)
	switch kind {
	case kindShow:
		b := &bufferedRows{}
		if err := s.show(st.text, b); err != nil {
			return nil, err
		}
		return b.cols, nil
	case kindQuery, kindExplain:
	default:
		return nil, nil
	}
	nulls := make([]string, st.nparam)
	for i := range nulls {
		nulls[i] = "NULL"
	}
	if catalogRE.MatchString(st.text) {
		ans, perr := s.catalog(ctx, st.text, nulls)
		return ans.cols, perr
	}
	tr, err := translate(st.text, nulls)
	if err != nil {
		return nil, toPG(err, st.text, nil)
	}
	if ans, ok, perr := s.local(tr.SQL); ok || perr != nil {
		return ans.cols, perr
	}
	cols, err := s.srv.cfg.Engine.Describe(ctx, s.engineQuery(tr.SQL))
	if err != nil {
		return nil, toPG(err, st.text, &tr)
	}
	return cols, nil
}
