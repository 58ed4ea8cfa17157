package command

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLineLimits: the sql size cap (at and beyond it), nested run client
// and nested lists are refused with a clear error, and no long line takes
// more than linear time to parse.
func TestLineLimits(t *testing.T) {
	stmt := func(n int) string { return "select 1" + strings.Repeat(" ", n-len("select 1")-1) + "x" }
	nestList := func(n int) string {
		return "run kafka consumer where ip = 1.2.3.4 and port = 9092 and topic = " + strings.Repeat("(a = ", n) + "1" + strings.Repeat(")", n)
	}
	cases := []struct {
		name, line string
		err        string // "" when it parses
		pos        int    // the error's position; -1 none
	}{
		{"statement at the cap", `sql d "` + stmt(MaxStatementBytes) + `"`, "", 0},
		{"statement over the cap", `sql d "` + stmt(MaxStatementBytes+1) + `"`, "the statement is 65537 bytes long; a SQL statement may have at most 65536 bytes (64 KiB)", -1},
		{"unquoted statement over the cap", `sql d ` + stmt(MaxStatementBytes+1), "the statement is 65537 bytes long", -1},
		{"300,000 minus signs", `sql d "select ` + strings.Repeat("-", 300_000) + `1 from t"`, "the sql command is 300023 bytes long", -1},
		{"in run client", `run client () sql d "select ` + strings.Repeat("-", 300_000) + `1 from t"`, "the sql command is 300023 bytes long", -1},
		{"run clients at the cap", `run client (a) ` + strings.Repeat("run client (b) ", maxRelays) + `sql d "select 1"`, "", 0},
		{"run clients over the cap", `run client (a) ` + strings.Repeat("run client (b) ", maxRelays+1) + `sql d "select 1"`, "run client relays through at most 4 nodes", len("run client (a) ")},
		{"lists at the cap", nestList(maxListDepth - 1), "", 0},
		{"lists over the cap", nestList(maxListDepth), "lists nest deeper than 16 levels", -2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.line, nil)
			if c.err == "" {
				var e *Error
				// Past the parser's checks, only the consumer's own
				// validation may object (an unknown key a).
				if err != nil && (!errors.As(err, &e) || strings.Contains(e.Detail, "nest") || strings.Contains(e.Detail, "bytes")) {
					t.Fatalf("error: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Detail, c.err) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
			if c.pos != -2 && e.Pos != c.pos {
				t.Errorf("position %d, want %d", e.Pos, c.pos)
			}
			if len(e.Caret()) > 2*len(c.line)+2 || (c.pos == -1 && e.Caret() != "") {
				t.Errorf("caret of %d bytes", len(e.Caret()))
			}
		})
	}
	// Lines of 1 MB in shapes that made a parser go quadratic take well
	// under a second each (minutes when quadratic: 2 min 48 s for the
	// nested lists); the bound leaves room for the race detector on a
	// loaded machine.
	const n = 200_000
	for name, line := range map[string]string{
		"nested lists":         nestList(n),
		"nested run client":    strings.Repeat("run client () ", n) + "get processes",
		"parentheses":          "get processes where a = " + strings.Repeat("(", n) + strings.Repeat(")", n),
		"conditions":           "get msg client where " + strings.Repeat("topic = 1 and ", n) + "topic = 1",
		"options of a sql":     `sql d ` + strings.Repeat("format = table and ", n) + `"select 1 from t"`,
		"quotes in brackets":   "get processes where a = " + strings.Repeat("[']", n),
		"unclosed brackets":    "get processes where a = " + strings.Repeat("[", n) + strings.Repeat("'x'", n),
		"schedule of schedule": `schedule time = 1 minute and name = "x" task ` + strings.Repeat("schedule time = 1 minute and name = x task ", n/10) + "get processes",
	} {
		t0 := time.Now()
		_, _ = Parse(line, nil)
		if took := time.Since(t0); took > 30*time.Second {
			t.Errorf("%s (%d bytes): %v", name, len(line), took)
		}
	}
}
