package sql_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	lsql "github.com/lakenode/lakenode/tables/sql"
)

// TestLimits checks the statement size and nesting caps exactly at and just
// beyond each limit, and that long but flat statements (AND and OR chains,
// IN lists, select lists) are answered.
func TestLimits(t *testing.T) {
	s := pingStore(t)
	pad := func(q string, size int) string { return q + strings.Repeat(" ", size-len(q)) }
	const base = "select count(*) from ping_sensor"
	nested := func(open, inner, close string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	cases := []struct {
		name  string
		q     string
		want  string // the answer's first cell, when it succeeds
		cause error  // the limit hit, when it fails
		pos   int    // the error's position (-2: do not check)
	}{
		{"size at the cap", pad(base, lsql.MaxStatementBytes), "48", nil, 0},
		{"size over the cap", pad(base, lsql.MaxStatementBytes+1), "", lsql.ErrStatementTooLong, -1},
		{"300,000 minus signs", "select " + strings.Repeat("-", 300_000) + "1 from ping_sensor", "", lsql.ErrStatementTooLong, -1},
		// 127 unary minus and the literal: 128 levels.
		{"unary minus at the cap", "select " + strings.Repeat("-", lsql.MaxDepth-1) + "1 from ping_sensor limit 1", "-1", nil, 0},
		{"unary minus over the cap", "select " + strings.Repeat("-", lsql.MaxDepth) + "1 from ping_sensor limit 1", "", lsql.ErrTooDeep, -1},
		// NOT … NOT, the comparison and its operands.
		{"not at the cap", "select count(*) from ping_sensor where " + strings.Repeat("not ", lsql.MaxDepth-2) + "value = 1", "1", nil, 0},
		{"not over the cap", "select count(*) from ping_sensor where " + strings.Repeat("not ", lsql.MaxDepth-1) + "value = 1", "", lsql.ErrTooDeep, -1},
		{"functions at the cap", "select " + nested("abs(", "-1", ")", lsql.MaxDepth-2) + " from ping_sensor limit 1", "1", nil, 0},
		{"functions over the cap", "select " + nested("abs(", "-1", ")", lsql.MaxDepth-1) + " from ping_sensor limit 1", "", lsql.ErrTooDeep, -1},
		{"parentheses at the cap", "select " + nested("(", "7", ")", lsql.MaxDepth) + " from ping_sensor limit 1", "7", nil, 0},
		{"parentheses over the cap", "select " + nested("(", "7", ")", lsql.MaxDepth+1) + " from ping_sensor limit 1", "", lsql.ErrTooDeep, len("select ") + lsql.MaxDepth},
		{"parentheses over the cap, unclosed", "select " + strings.Repeat("(", 60_000), "", lsql.ErrTooDeep, len("select ") + lsql.MaxDepth},
		{"4,000 ANDs", base + " where value >= 0" + strings.Repeat(" and value >= 0", 4000), "47", nil, 0},
		{"4,000 ORs", base + " where value = 0" + strings.Repeat(" or value = 1", 4000), "2", nil, 0},
		{"10,000 terms", "select 0" + strings.Repeat("+1", 10_000) + " from ping_sensor limit 1", "10000", nil, 0},
		{"IN list of 20,000", base + " where value in (0" + strings.Repeat(",1", 20_000) + ")", "2", nil, 0},
		{"5,000 select items", "select value" + strings.Repeat(", value", 5000) + " from ping_sensor where value = 3", "3", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t0 := time.Now()
			res, err := lsql.Query(t.Context(), s, "lsl_demo", c.q, lsql.Options{Now: now})
			if took := time.Since(t0); took > 20*time.Second { // room for -race on a loaded machine
				t.Errorf("took %v", took)
			}
			if c.cause == nil {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if len(res.Rows) == 0 || res.Rows[0][0].String() != c.want {
					t.Fatalf("answer %v, want %s", res.Rows, c.want)
				}
				return
			}
			var se *lsql.Error
			if !errors.As(err, &se) || !errors.Is(err, c.cause) {
				t.Fatalf("error %v (%T), want a *sql.Error wrapping %v", err, err, c.cause)
			}
			if se.Pos != c.pos {
				t.Errorf("position %d, want %d", se.Pos, c.pos)
			}
			if _, err := lsql.TableOf(c.q); !errors.Is(err, c.cause) {
				t.Errorf("TableOf: %v, want %v", err, c.cause)
			}
		})
	}
}
