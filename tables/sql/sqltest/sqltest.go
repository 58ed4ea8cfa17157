// Package sqltest runs SQL behaviour scripts: load rows, run a query, compare
// with the expected rows. The same scripts run on one store (Store) and,
// later, on a cluster of nodes; `go test -rewrite` rewrites the expected
// output of every query.
//
// Script format (testdata/*.sql):
//
//	# a comment
//	load DBMS.TABLE col:type col:type ...    (types: str, int, float, timestamp)
//	v1 | v2 | ...                            (one row per line; NULL for null)
//	                                         (a blank line ends the rows)
//	query DBMS [now=2026-11-25T12:00:00Z]
//	select ...                               (one line)
//	----
//	col | col                                (expected: header, then rows)
//	v | v
//	                                         (a blank line ends the block)
//
// An expected block that starts with "error: " expects the query to fail
// with a message containing the rest of the line.
package sqltest

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of sqltest scripts")

// Engine is what scripts run against.
type Engine interface {
	Load(t testing.TB, dbms, table string, cols []schema.Column, rows [][]schema.Value)
	Query(t testing.TB, dbms, query string, now time.Time) (cols []string, rows []schema.Row, err error)
}

// Run runs one script file against e.
func Run(t *testing.T, path string, e Engine) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []string
	changed := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trim := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trim, "load "):
			out = append(out, l)
			j := i + 1
			var rows []string
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != ""; j++ {
				rows = append(rows, lines[j])
				out = append(out, lines[j])
			}
			load(t, e, path, i+1, trim, rows)
			i = j - 1
		case strings.HasPrefix(trim, "query "):
			out = append(out, l)
			if i+2 >= len(lines) || strings.TrimSpace(lines[i+2]) != "----" {
				t.Fatalf("%s:%d: a query is one line of SQL followed by ----", path, i+1)
			}
			q := strings.TrimSpace(lines[i+1])
			out = append(out, lines[i+1], lines[i+2])
			j := i + 3
			var want []string
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != ""; j++ {
				want = append(want, strings.TrimRight(lines[j], " "))
			}
			got := runQuery(t, e, path, i+1, trim, q, want)
			if *rewrite {
				out = append(out, got...)
				changed = changed || strings.Join(got, "\n") != strings.Join(want, "\n")
			} else {
				out = append(out, want...)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s:%d: %s\n got:\n%s\nwant:\n%s", path, i+1, q, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			i = j - 1
		default:
			out = append(out, l)
		}
	}
	if *rewrite && changed {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func load(t *testing.T, e Engine, path string, line int, header string, rows []string) {
	f := strings.Fields(header)
	if len(f) < 3 || !strings.Contains(f[1], ".") {
		t.Fatalf("%s:%d: load DBMS.TABLE col:type ...", path, line)
	}
	dbms, table, _ := strings.Cut(f[1], ".")
	var cols []schema.Column
	for _, c := range f[2:] {
		name, typ, ok := strings.Cut(c, ":")
		ty, tok := schema.ParseShortType(typ)
		if !ok || !tok {
			t.Fatalf("%s:%d: column %q is not name:type", path, line, c)
		}
		cols = append(cols, schema.Column{Name: name, Type: ty})
	}
	var vals [][]schema.Value
	for k, r := range rows {
		cells := strings.Split(r, "|")
		if len(cells) != len(cols) {
			t.Fatalf("%s:%d: %d values for %d columns", path, line+k+1, len(cells), len(cols))
		}
		row := make([]schema.Value, len(cols))
		for ci, cell := range cells {
			v, err := parseValue(strings.TrimSpace(cell), cols[ci].Type)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, line+k+1, err)
			}
			row[ci] = v
		}
		vals = append(vals, row)
	}
	e.Load(t, dbms, table, cols, vals)
}

func parseValue(s string, t schema.Type) (schema.Value, error) {
	if s == "NULL" {
		return schema.Null, nil
	}
	switch t {
	case schema.TypeInt:
		i, err := strconv.ParseInt(s, 10, 64)
		return schema.Int(i), err
	case schema.TypeFloat:
		f, err := strconv.ParseFloat(s, 64)
		return schema.Float(f), err
	case schema.TypeTimestamp:
		us, err := schema.ParseTimestamp(s)
		return schema.TimestampMicros(us), err
	}
	return schema.Str(s), nil
}

func runQuery(t *testing.T, e Engine, path string, line int, header, q string, want []string) []string {
	f := strings.Fields(header)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, opt := range f[2:] {
		if v, ok := strings.CutPrefix(opt, "now="); ok {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatalf("%s:%d: now=%s: %v", path, line, v, err)
			}
			now = tm
		}
	}
	cols, rows, err := e.Query(t, f[1], q, now)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	if len(want) == 1 && strings.HasPrefix(want[0], "error: ") {
		return []string{fmt.Sprintf("unexpected success with %d rows", len(rows))}
	}
	out := []string{strings.Join(cols, " | ")}
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			if v.IsNull() {
				cells[i] = "NULL"
			} else {
				cells[i] = v.String()
			}
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return out
}

// ReadDir lists the scripts of a testdata directory.
func ReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, dir+"/"+e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no .sql scripts in %s", dir)
	}
	return out
}
