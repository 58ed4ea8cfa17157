package sql

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// fuzzNow is now() in every fuzzed query.
var fuzzNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fuzzRows is how many rows fuzzStore holds in all.
const fuzzRows = 48 + 12

// fuzzStore holds two small tables of dbms lsl_demo: ping_sensor (the
// README's table: one row an hour over two days, a NULL value) and readings
// (every column type, with NaN, infinities, -0, negative and NULL times,
// odd strings). Every row has its own time, so storage order is time order.
func fuzzStore(tb testing.TB) *tables.Store {
	tb.Helper()
	s := tablestest.Open(tb)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	var rows [][]schema.Value
	for i := range 48 {
		v := schema.Int(int64(i))
		if i == 5 {
			v = schema.Null
		}
		rows = append(rows, []schema.Value{schema.Str(string(rune('a' + i%3))), schema.Timestamp(fuzzNow.Add(-time.Duration(i)*time.Hour - 30*time.Minute)), v})
	}
	tablestest.Load(tb, s, "lsl_demo", "ping_sensor", cols, rows)
	rcols := []schema.Column{{Name: "ts", Type: schema.TypeTimestamp}, {Name: "f", Type: schema.TypeFloat}, {Name: "n", Type: schema.TypeInt},
		{Name: "ok", Type: schema.TypeBool}, {Name: "s", Type: schema.TypeString}}
	floats := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e308, -1e-308, 2.5, 0, 3, -7.25, 1e15, math.MaxFloat64}
	ints := []int64{math.MaxInt64, math.MinInt64, 0, -1, 1, 1 << 53, 42, -42, 7, 1000, math.MaxInt32, 3}
	strs := []string{"", "a", "A%", "_b", "O'Brien \"q\"", "é漢字🎉", "\xff\xfe", "1e400", "NaN", "2026-11-25 10:00:00", "null", "x\x00y"}
	rows = rows[:0]
	for i := range 12 {
		ts := schema.TimestampMicros(int64(i-6) * 3_600_000_000_000) // hours either side of the epoch
		if i == 0 {
			ts = schema.Null // a NULL time sorts at 0
		}
		f, n, ok, str := schema.Float(floats[i]), schema.Int(ints[i]), schema.Bool(i%2 == 0), schema.Str(strs[i])
		switch i {
		case 4:
			f = schema.Null
		case 7:
			n, ok = schema.Null, schema.Null
		case 9:
			str = schema.Null
		}
		rows = append(rows, []schema.Value{ts, f, n, ok, str})
	}
	tablestest.Load(tb, s, "lsl_demo", "readings", rcols, rows)
	return s
}

// fuzzSelectRE finds SELECT statements quoted with " (Go or command
// syntax, \" escapes) or ` in docs and tests.
var fuzzSelectRE = regexp.MustCompile("(?is)\"(select\\b(?:[^\"\\\\\n]|\\\\.)*)\"|`(select\\b[^`]*)`")

// fuzzSeedQueries are the SELECT statements of the docs and of this
// package's tests (string literals starting with select), plus queries
// over readings and some broken ones.
func fuzzSeedQueries(tb testing.TB) []string {
	tb.Helper()
	files := []string{"../../README.md", "../../BENCHMARKS.md", "../../node/command/help.go"}
	tests, err := filepath.Glob("*_test.go")
	if err != nil {
		tb.Fatal(err)
	}
	files = append(files, tests...)
	seen := map[string]bool{}
	var out []string
	add := func(q string) {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatalf("reading seeds: %v", err)
		}
		for _, m := range fuzzSelectRE.FindAllStringSubmatch(string(b), -1) {
			if m[2] != "" {
				add(m[2])
			} else if u, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
				add(u)
			} else {
				add(m[1])
			}
		}
	}
	if len(out) < 50 {
		tb.Fatalf("only %d seed queries found in %v", len(out), files)
	}
	for _, q := range []string{
		"select ts, f, n, ok, s from readings order by f desc, s",
		"select count(*), sum(n), avg(f), min(s), max(ts), range(n), count(distinct ok) from readings",
		"select s, n * 2 + 1, -n, n / 0, n % 0, f::int, s::float, n::str, ts::timestamp from readings where ok",
		"select * from readings where ts is null or f != f or s like '%\\%%' limit 3 offset 1",
		"select ok, count(*) from readings group by ok having count(*) > 1 order by 2",
		"select increments(minute, 5, ts), avg(f) from readings where period(hour, 2, now(), ts)",
		"select date_trunc('hour', ts), extract(year from ts), round(f, 2), abs(n), upper(s), lower(s), length(s) from readings",
		"select n from readings where n between -1 and 1 and s in ('a', 'é漢字🎉', '') or not ok",
		"select distinct s from readings order by s desc limit 0",
		"select max(n) + 1, min(n) - 1, sum(n) from readings",
		"select timestamp, value from ping_sensor where timestamp >= '2026-11-24' - 1d and timestamp < now() + interval '1 hour'",
		"select value from ping_sensor where period(day, 1, now(), timestamp) and device_name = 'a'",
		"select 1e400 from ping_sensor", "select 9223372036854775808 from ping_sensor", "select -9223372036854775808 from ping_sensor",
		"select value::float(2) from ping_sensor limit 1", "select (value) from (select 1) x", "select a.value from ping_sensor a, readings b",
		"select * from ping_sensor limit 'x'", "select * from ping_sensor group by 0", "select count(*) from ping_sensor group by 1",
		"select", "", "(((", "select 'unterminated from ping_sensor", "select `partition`, offset from lakenode.kafka_errors",
	} {
		add(q)
	}
	return out
}

// FuzzPrepass: the pre-pass never panics, tokens cover the statement in
// order, positions map back into it, and it grows a statement by a bounded
// factor.
func FuzzPrepass(f *testing.F) {
	for _, q := range fuzzSeedQueries(f) {
		f.Add(q)
	}
	for _, q := range []string{"x::int::float", "-1d", "+ 3 hours", "interval '2 weeks'", "a, from", "range(", ")::str", "::int", "'\\", "\"\"\"", "`a``b`", "1e+", ".5e-3d"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > MaxStatementBytes {
			return // refused before the pre-pass (TestLimits)
		}
		toks := ptokens(q)
		end := 0
		for _, tk := range toks {
			if tk.pos < end || tk.pos+len(tk.text) > len(q) || q[tk.pos:tk.pos+len(tk.text)] != tk.text || tk.text == "" {
				t.Fatalf("%q: token %+v after offset %d", q, tk, end)
			}
			end = tk.pos + len(tk.text)
		}
		r := prepass(q)
		if r.deepAt >= 0 {
			if r.text != q || r.deepAt >= len(q) || q[r.deepAt] != '(' {
				t.Fatalf("%q: deepAt %d, text %q", q, r.deepAt, r.text)
			}
			return
		}
		if len(r.text) > 8*len(q)+16 {
			t.Fatalf("%q grew to %d bytes", q, len(r.text))
		}
		if len(r.edits) == 0 && r.text != q {
			t.Fatalf("%q: rewritten to %q without an edit", q, r.text)
		}
		// origPos never goes backwards and stays inside the statement:
		// checked at every position of a short rewrite, else around the
		// first edits (each check costs one pass over the edits).
		var at []int
		if len(r.text) <= 4096 && len(r.edits) <= 64 {
			for p := 0; p <= len(r.text); p++ {
				at = append(at, p)
			}
		} else {
			at = append(at, 0, len(r.text))
			for _, e := range r.edits[:min(len(r.edits), 256)] {
				for _, p := range []int{e.pos - 1, e.pos, e.pos + 1, e.pos + e.n - 1, e.pos + e.n, e.pos + e.n + 1} {
					if p >= 0 && p <= len(r.text) {
						at = append(at, p)
					}
				}
			}
			slices.Sort(at)
		}
		last := 0
		for _, p := range at {
			o := r.origPos(p)
			if o < last || o > len(q) {
				t.Fatalf("%q -> %q: position %d maps to %d (after %d)", q, r.text, p, o, last)
			}
			last = o
		}
		if o := r.origPos(len(r.text)); o != len(q) {
			t.Fatalf("%q -> %q: the end maps to %d, not %d", q, r.text, o, len(q))
		}
		for _, item := range selectTexts(q) {
			if !strings.Contains(q, item) {
				t.Fatalf("%q: select item %q is not in it", q, item)
			}
		}
	})
}

// fuzzRender is a row as text, floats by their bits.
func fuzzRender(rows []schema.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for _, v := range r {
			if v.IsNull() {
				b.WriteString("NULL")
			} else {
				b.WriteString(v.Type.String() + ":" + v.String())
			}
			b.WriteByte('|')
		}
		out[i] = b.String()
	}
	return out
}

// FuzzPlan plans and runs arbitrary statements on a small fixed store. A
// statement never panics the engine; every error of a statement is a
// *sql.Error (on a healthy store, without a deadline) pointing inside it;
// a statement that plans runs — as a whole answer, as a partial merged, and
// streamed — and the three agree row for row.
func FuzzPlan(f *testing.F) {
	for i, q := range fuzzSeedQueries(f) {
		f.Add(q, uint8(i%8))
	}
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, q string, mode uint8) {
		ctx := context.Background()
		dbms := "lsl_demo"
		if mode&1 != 0 {
			dbms = "lsl_dem" // a misspelled dbms: every statement fails
		}
		opt := Options{Now: fuzzNow}
		if mode&2 != 0 {
			opt.Commits = &CommitRange{After: 0, UpTo: 1}
		}
		if mode&4 != 0 {
			opt.MaxRows = 5
		}
		userError := func(what string, err error) {
			t.Helper()
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%s %q: error %T is not a *sql.Error: %v", what, q, err, err)
			}
			if se.Msg == "" || se.Pos < -1 || se.Pos > len(q) || se.Query != q {
				t.Fatalf("%s %q: error %q at %d of a %d-byte statement (query %q)", what, q, se.Msg, se.Pos, len(q), se.Query)
			}
			_ = se.Caret()
		}
		_, _ = TableOf(q)
		if _, _, err := PeriodLast(ctx, s, dbms, q, opt); err != nil {
			userError("PeriodLast", err)
		}
		res, qerr := Query(ctx, s, dbms, q, opt)
		prep, perr := Prepare(ctx, s, dbms, q, opt)
		if perr != nil {
			userError("Prepare", perr)
			if qerr == nil || qerr.Error() != perr.Error() {
				t.Fatalf("%q: Prepare fails with %v, Query with %v", q, perr, qerr)
			}
			return
		}
		// It plans: it runs.
		var tooMany *TooManyRowsError
		switch {
		case qerr == nil:
		case opt.MaxRows > 0 && errors.As(qerr, &tooMany):
		default:
			t.Fatalf("%q plans but Query fails: %v", q, qerr)
		}
		if d, tbl, err := TableIn(dbms, q); err != nil {
			t.Fatalf("%q plans but TableIn fails: %v", q, err)
		} else if _, ok := s.Table(d, tbl); !ok {
			t.Fatalf("%q plans but TableIn names %s.%s", q, d, tbl)
		}
		part, err := prep.Partial(ctx, s)
		if err != nil && !(opt.MaxRows > 0 && errors.As(err, &tooMany)) {
			t.Fatalf("%q: the partial fails: %v", q, err)
		}
		var merged *Result
		if err == nil {
			if part.Scanned < 0 || part.Scanned > fuzzRows {
				t.Fatalf("%q: scanned %d of %d rows", q, part.Scanned, fuzzRows)
			}
			if merged, err = prep.Merge(ctx, []*Partial{part}); err != nil {
				t.Fatalf("%q: the merge fails: %v", q, err)
			}
		}
		// Every value has the type its column was declared with.
		types := prep.ColumnTypes()
		if len(types) != len(prep.ColumnNames()) {
			t.Fatalf("%q: %d column types for %d columns", q, len(types), len(prep.ColumnNames()))
		}
		if res != nil {
			for _, r := range res.Rows {
				for i, v := range r {
					if i < len(types) && !v.IsNull() && types[i] != schema.TypeInvalid && v.Type != types[i] {
						t.Fatalf("%q: column %d declared %v holds a %v (%v)", q, i, types[i], v.Type, v)
					}
				}
			}
		}
		var streamed []schema.Row
		n, scanned, err := prep.Stream(ctx, s, func(r schema.Row) error {
			streamed = append(streamed, append(schema.Row(nil), r...))
			return nil
		})
		if err != nil {
			t.Fatalf("%q: the stream fails: %v", q, err)
		}
		if n != int64(len(streamed)) || scanned < 0 || scanned > fuzzRows {
			t.Fatalf("%q: streamed %d rows, counted %d, scanned %d", q, len(streamed), n, scanned)
		}
		cols := prep.Columns()
		for _, r := range streamed {
			if len(r) != cols {
				t.Fatalf("%q: a row of %d values for %d columns", q, len(r), cols)
			}
		}
		want := fuzzRender(streamed)
		for what, r := range map[string]*Result{"Query": res, "Merge": merged} {
			if r == nil {
				continue
			}
			if len(r.Columns) != cols {
				t.Fatalf("%q: %s has %d columns, Prepare %d", q, what, len(r.Columns), cols)
			}
			if got := fuzzRender(r.Rows); !slices.Equal(got, want) {
				t.Fatalf("%q: %s answers\n%v\nstreamed\n%v", q, what, got, want)
			}
		}
	})
}

// Groups that ORDER BY ties come out in group key order, every time: a
// LIMIT keeps the same groups (found by FuzzPlan: they came in map order).
func TestTiedGroupsKeepKeyOrder(t *testing.T) {
	s := fuzzStore(t)
	for _, q := range []string{
		"select device_name from ping_sensor group by device_name order by !2",
		"select device_name, count(*) from ping_sensor group by device_name order by 2 desc",
		"select device_name from ping_sensor group by device_name order by 'x' limit 1",
	} {
		for range 20 {
			res, err := Query(t.Context(), s, "lsl_demo", q, Options{Now: fuzzNow})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if got := fuzzRender(res.Rows); len(got) == 0 || !strings.HasPrefix(got[0], "str:a|") || !slices.IsSorted(got) {
				t.Fatalf("%s: %v, want the groups in key order", q, got)
			}
		}
	}
}

// GROUP BY an aggregate's alias, or an expression of one, is a SQL error
// (found by FuzzPlan: the scan evaluated the aggregate and panicked).
func TestGroupByAggregateAlias(t *testing.T) {
	s := fuzzStore(t)
	for _, q := range []string{
		"select device_name % sum(value) total from ping_sensor group by total",
		"select sum(value) as total from ping_sensor group by total + 1",
		"select device_name, sum(value) from ping_sensor group by sum(value)",
		"select count(*) as n from ping_sensor group by device_name, n",
	} {
		_, err := Query(t.Context(), s, "lsl_demo", q, Options{Now: fuzzNow})
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "aggregate") || se.Pos < 0 {
			t.Errorf("%s: error %v, want a *sql.Error naming the aggregate", q, err)
		}
	}
	res, err := Query(t.Context(), s, "lsl_demo", "select device_name as d, sum(value) as total from ping_sensor group by d order by total", Options{Now: fuzzNow})
	if err != nil || len(res.Rows) != 3 {
		t.Fatalf("grouping by a column's alias: %v %v", err, res)
	}
}

// An error's caret stays under its word after invalid UTF-8 and letters
// whose lower case is longer or shorter (found by FuzzPlan: it pointed
// past the statement).
func TestCaretAfterNonASCII(t *testing.T) {
	s := fuzzStore(t)
	for _, q := range []string{
		"select `\xfd` from nosuch",
		"select 'İİİ', devic_name from ping_sensor",
		"select 'KKK' /* \xff\xfe */, nosuchfn(value) from ping_sensor",
	} {
		_, err := Query(t.Context(), s, "lsl_demo", q, Options{Now: fuzzNow})
		var se *Error
		if !errors.As(err, &se) || se.Pos < 0 {
			t.Fatalf("%q: error %v without a position", q, err)
		}
		word := strings.Fields(strings.NewReplacer("(", " ", ",", " ").Replace(q[se.Pos:]))[0]
		if word != "nosuch" && word != "devic_name" && word != "nosuchfn" {
			t.Errorf("%q: %q at %d, caret under %q", q, se.Msg, se.Pos, word)
		}
	}
}
