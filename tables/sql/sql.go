// Package sql answers EdgeLake's SQL over lakenode's tables: a MySQL-dialect
// parser (vitess sqlparser) behind a pre-pass for EdgeLake's forms, and an
// executor of its own that pushes the time range into the Pebble scan, then
// filters, groups, aggregates, orders and limits.
//
// The store is reached through tables; tables never imports this package.
package sql

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// Limits on the work one statement can ask for. A statement is refused
// before it is parsed when it is longer than MaxStatementBytes, and after
// it is parsed when its expressions nest deeper than MaxDepth (a chain of
// the same operator, such as a AND b AND c or a + b + c, is one level;
// each parenthesis, unary operator, function call or comparison is one
// more). Together they bound every pass over the parse tree, each of which
// is linear in the statement's size.
const (
	MaxStatementBytes = 64 << 10
	MaxDepth          = 128
)

// Errors a statement over a limit wraps (errors.Is); the *Error says by how
// much and, where it can, points at the place.
var (
	ErrStatementTooLong = errors.New("statement too long")
	ErrTooDeep          = errors.New("expression nested too deeply")
)

// Error is a query the engine refuses: Pos is the byte offset in Query it
// points at (-1: none). Cause, when set, is one of the Err values above.
type Error struct {
	Query string
	Pos   int
	Msg   string
	Cause error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the error's Cause.
func (e *Error) Unwrap() error { return e.Cause }

// Caret returns the query with a caret under Pos, or "".
func (e *Error) Caret() string {
	if e.Pos < 0 || e.Query == "" || strings.Contains(e.Query, "\n") {
		return ""
	}
	p := min(e.Pos, len(e.Query))
	return e.Query + "\n" + strings.Repeat(" ", len([]rune(e.Query[:p]))) + "^"
}

// Options of a query.
type Options struct {
	Now time.Time // the value of now(); zero means time.Now()
	// Commits, when set, keeps only the rows of the commits it names
	// (tsd_id, the table's commit sequence, in (After, UpTo]).
	Commits *CommitRange
	// PeriodAnchor, when set, is the time period() counts back from,
	// instead of this store's latest time at or before period's date: the
	// latest over every node of a cluster.
	PeriodAnchor *PeriodAnchor
	// MaxRows, when positive, fails a query whose answer has more rows
	// with a *TooManyRowsError — as early as the scan can tell, so a reply
	// that must be built whole never holds more than about MaxRows rows.
	MaxRows int64

	probe *periodProbe
	// visits counts the nodes the planner's passes visit (linearity test).
	visits *int
}

// TooManyRowsError is an answer with more rows than Options.MaxRows.
type TooManyRowsError struct{ Max int64 }

func (e *TooManyRowsError) Error() string {
	return fmt.Sprintf("the answer has more than %d rows", e.Max)
}

// PeriodAnchor is the latest time (µs) at or before period()'s date; Found
// is false when no row is that old.
type PeriodAnchor struct {
	Found bool
	Last  int64
}

type periodProbe struct {
	PeriodAnchor
	has bool
}

// PeriodLast returns the anchor period() has on this store for query: the
// latest time of the table at or before period's date. has is false for a
// query without period(). A cluster takes the latest of the nodes' anchors
// and passes it back as Options.PeriodAnchor.
func PeriodLast(ctx context.Context, store *tables.Store, dbms, query string, opt Options) (a PeriodAnchor, has bool, err error) {
	pr := &periodProbe{}
	opt.probe, opt.PeriodAnchor = pr, nil
	if _, _, err := prepare(ctx, store, dbms, query, opt); err != nil {
		return PeriodAnchor{}, false, err
	}
	return pr.PeriodAnchor, pr.has, nil
}

// CommitRange is a range of a table's commit sequence numbers: After
// excluded, UpTo included.
type CommitRange struct{ After, UpTo uint64 }

// Result is a query's answer.
type Result struct {
	Columns []string
	Rows    []schema.Row
	Scanned int64    // rows read from the store
	Notices []string // e.g. the stray comma removed
}

var parser *sqlparser.Parser

func init() {
	p, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: "8.0.40"})
	if err != nil {
		panic(err)
	}
	parser = p
}

var posRE = regexp.MustCompile(`at position (\d+)(?: near '([^']*)')?`)

// Query runs one SELECT on dbms's tables in store.
func Query(ctx context.Context, store *tables.Store, dbms, query string, opt Options) (*Result, error) {
	p, rw, err := prepare(ctx, store, dbms, query, opt)
	if err != nil {
		return nil, err
	}
	res, err := p.run(ctx, store)
	if err != nil {
		return nil, err
	}
	if opt.MaxRows > 0 && int64(len(res.Rows)) > opt.MaxRows {
		return nil, &TooManyRowsError{Max: opt.MaxRows}
	}
	res.Notices = append(rw.notices, res.Notices...)
	return res, nil
}

func prepare(ctx context.Context, store *tables.Store, dbms, query string, opt Options) (*queryPlan, rewritten, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.visits == nil {
		opt.visits = new(int)
	}
	sel, rw, err := parseSelect(query, opt.visits)
	if err != nil {
		return nil, rw, err
	}
	if err := ctx.Err(); err != nil {
		return nil, rw, fmt.Errorf("%w: %w", errCanceled, err)
	}
	p, err := plan(ctx, store, dbms, query, rw, sel, opt)
	if p != nil {
		p.maxRows = opt.MaxRows
	}
	if err == nil {
		err = ctx.Err()
		if err != nil {
			err = fmt.Errorf("%w: %w", errCanceled, err)
		}
	}
	return p, rw, err
}

// parseSelect checks a statement's size, runs the pre-pass, parses it and
// checks its nesting depth; every pass over it after this one can count on
// both limits.
func parseSelect(query string, visits *int) (*sqlparser.Select, rewritten, error) {
	if len(query) > MaxStatementBytes {
		return nil, rewritten{text: query}, &Error{Query: query, Pos: -1, Cause: ErrStatementTooLong,
			Msg: fmt.Sprintf("the statement is %d bytes long; the limit is %d (64 KiB)", len(query), MaxStatementBytes)}
	}
	rw := prepass(query)
	if rw.deepAt >= 0 {
		return nil, rw, &Error{Query: query, Pos: rw.deepAt, Cause: ErrTooDeep,
			Msg: fmt.Sprintf("parentheses nest deeper than %d levels", MaxDepth)}
	}
	stmt, err := parser.Parse(rw.text)
	if err != nil {
		return nil, rw, parseError(query, rw, err)
	}
	sel, ok := stmt.(*sqlparser.Select)
	if !ok {
		return nil, rw, &Error{Query: query, Pos: 0, Msg: "only SELECT statements are supported"}
	}
	if err := checkDepth(query, sel, visits); err != nil {
		return nil, rw, err
	}
	return sel, rw, nil
}

// checkDepth refuses a statement whose expressions nest deeper than
// MaxDepth. A node continuing a chain of its parent's operator (a AND b AND
// c, a OR b OR c, a + b - c * d) adds no level, so long lists of conditions
// or terms are fine; -(-(-x)), NOT NOT x and f(f(f(x))) each add one.
func checkDepth(query string, sel *sqlparser.Select, visits *int) error {
	depth := 0
	counts := func(c *sqlparser.Cursor) bool {
		if _, ok := c.Node().(sqlparser.Expr); !ok {
			return false
		}
		switch c.Node().(type) {
		case *sqlparser.AndExpr:
			_, same := c.Parent().(*sqlparser.AndExpr)
			return !same
		case *sqlparser.OrExpr:
			_, same := c.Parent().(*sqlparser.OrExpr)
			return !same
		case *sqlparser.XorExpr:
			_, same := c.Parent().(*sqlparser.XorExpr)
			return !same
		case *sqlparser.BinaryExpr:
			_, same := c.Parent().(*sqlparser.BinaryExpr)
			return !same
		}
		return true
	}
	tooDeep := false
	sqlparser.Rewrite(sel, func(c *sqlparser.Cursor) bool {
		*visits++
		if tooDeep {
			return false
		}
		if counts(c) {
			depth++
			if depth > MaxDepth {
				tooDeep = true
				return false
			}
		}
		return true
	}, func(c *sqlparser.Cursor) bool {
		if counts(c) {
			depth--
		}
		return true
	})
	if tooDeep {
		return &Error{Query: query, Pos: -1, Cause: ErrTooDeep,
			Msg: fmt.Sprintf("an expression nests deeper than %d levels (operators, functions and parentheses inside one another)", MaxDepth)}
	}
	return nil
}

func parseError(query string, rw rewritten, err error) error {
	msg := err.Error()
	pos := -1
	if m := posRE.FindStringSubmatch(msg); m != nil {
		p, _ := strconv.Atoi(m[1])
		near := m[2]
		// vitess reports the position after the offending token.
		p -= len(near)
		if p < 0 {
			p = 0
		}
		// At the end of the statement vitess says one past it.
		pos = min(rw.origPos(p), len(query))
		if near != "" {
			msg = fmt.Sprintf("syntax error near '%s'", near)
		} else {
			msg = "syntax error at the end of the statement"
		}
	}
	return &Error{Query: query, Pos: pos, Msg: msg}
}

// nameError is an unknown table or column, with the closest name.
func nameError(query, what, name string, cands []string) error {
	msg := fmt.Sprintf("unknown %s '%s'", what, name)
	if c := schema.Closest(name, cands); c != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", c)
	}
	pos := findWord(query, name)
	return &Error{Query: query, Pos: pos, Msg: msg}
}

// findWord returns the byte offset in q of w as a whole word, in any case,
// or -1. It compares q's own bytes (lowercasing q first would move offsets
// after an invalid UTF-8 byte or a letter whose lower case is longer).
func findWord(q, w string) int {
	for i := 0; i+len(w) <= len(q); i++ {
		if !strings.EqualFold(q[i:i+len(w)], w) {
			continue
		}
		before := i == 0 || !isIdent(asciiLower(q[i-1]))
		after := i+len(w) == len(q) || !isIdent(asciiLower(q[i+len(w)]))
		if before && after {
			return i
		}
	}
	return -1
}

func asciiLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

var errCanceled = errors.New("query canceled")
