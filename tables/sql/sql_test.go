package sql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
	"github.com/lakenode/lakenode/tables/tablestest"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func pingStore(t *testing.T) *tables.Store {
	t.Helper()
	s := tablestest.Open(t)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	var rows [][]schema.Value
	for i := range 48 {
		// One row an hour over the last two days; devices a, b, c.
		ts := now.Add(-time.Duration(i)*time.Hour - 30*time.Minute)
		v := schema.Int(int64(i))
		if i == 5 {
			v = schema.Null
		}
		rows = append(rows, []schema.Value{schema.Str(string(rune('a' + i%3))), schema.Timestamp(ts), v})
	}
	tablestest.Load(t, s, "lsl_demo", "ping_sensor", cols, rows)
	return s
}

func render(r *lsql.Result) string {
	var b strings.Builder
	b.WriteString(strings.Join(r.Columns, ",") + "\n")
	for _, row := range r.Rows {
		var cells []string
		for _, v := range row {
			if v.IsNull() {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, v.String())
			}
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return b.String()
}

func TestQueries(t *testing.T) {
	s := pingStore(t)
	cases := []struct {
		q, want string
		scanned int64 // -1: don't check
	}{
		{`select count(*), count(value), min(value), max(value), sum(value), range(value) from ping_sensor`,
			"count(*),count(value),min(value),max(value),sum(value),range(value)\n48,47,0,47,1123,47\n", 48},
		{`select count(*) from ping_sensor where timestamp > now() - 1 day`, "count(*)\n24\n", 24},
		{`select count(*) from ping_sensor where timestamp >= now() - interval '12 hours'`, "count(*)\n12\n", 12},
		{`select count(*) as n from ping_sensor where timestamp between now() - 2 hours and now()`, "n\n2\n", 2},
		{`select device_name, count(*), avg(value) from ping_sensor where timestamp > now() - 1 day group by device_name order by device_name`,
			"device_name,count(*),avg(value)\na,8,10.5\nb,8,11.5\nc,8,13.571428571428571\n", 24},
		{`select device_name, sum(value) as total from ping_sensor group by device_name having total > 375 order by total desc`,
			"device_name,total\nc,387\nb,376\n", 48},
		{`select value, from ping_sensor where value in (1, 2, 3) order by value desc limit 2`, "value\n3\n2\n", -1},
		{`select distinct device_name from ping_sensor order by 1`, "device_name\na\nb\nc\n", -1},
		{`select value from ping_sensor where value is null`, "value\nNULL\n", -1},
		{`select value % 5 as m, value / 2, value::float / 2 from ping_sensor where value = 7`, "m,value / 2,value::float / 2\n2,3,3.5\n", -1},
		{`select count(distinct device_name) from ping_sensor where device_name like 'A%' or device_name like '_b'`, "count(distinct device_name)\n1\n", -1},
		{`select value from ping_sensor order by value limit 2 offset 1`, "value\n0\n1\n", -1},
		{`select extract(hour from timestamp), date_trunc('day', timestamp) from ping_sensor where value = 0`, "extract(hour from timestamp),date_trunc('day', timestamp)\n11,2026-11-25 00:00:00.000000\n", -1},
		{`select count(*) from ping_sensor where timestamp > '2026-11-25 06:00:00'`, "count(*)\n6\n", 6},
		{`select max(timestamp) from ping_sensor where value > 100`, "max(timestamp)\nNULL\n", -1},
		{`select * from ping_sensor where value = 1`, "", -1},
	}
	for _, c := range cases {
		res, err := lsql.Query(context.Background(), s, "lsl_demo", c.q, lsql.Options{Now: now})
		if err != nil {
			t.Errorf("%s: %v", c.q, err)
			continue
		}
		if c.want != "" && render(res) != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.q, render(res), c.want)
		}
		if c.scanned >= 0 && res.Scanned != c.scanned {
			t.Errorf("%s: scanned %d rows, want %d (time range pushed into the scan)", c.q, res.Scanned, c.scanned)
		}
		if c.want == "" && (len(res.Columns) != 7 || len(res.Rows) != 1) {
			t.Errorf("select *: %v", render(res))
		}
	}
}

func TestStrayCommaNotice(t *testing.T) {
	s := pingStore(t)
	res, err := lsql.Query(context.Background(), s, "lsl_demo", "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10", lsql.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 10 || len(res.Notices) != 1 || !strings.Contains(res.Notices[0], "comma before FROM") {
		t.Fatalf("rows %d notices %v", len(res.Rows), res.Notices)
	}
}

func TestErrors(t *testing.T) {
	s := pingStore(t)
	cases := []struct{ q, msg, at string }{
		{"select devic_name from ping_sensor", "did you mean 'device_name'", "devic_name"},
		{"select * from ping_sensr", "did you mean 'ping_sensor'", "ping_sensr"},
		{"select value from ping_sensor where", "syntax error", ""},
		{"select value from ping_sensor where value >> 2 and sum(value) > 1", "", ""},
		{"delete from ping_sensor", "only SELECT", ""},
		{"select nosuchfn(value) from ping_sensor", "function nosuchfn is not supported", "nosuchfn"},
	}
	for _, c := range cases {
		_, err := lsql.Query(context.Background(), s, "lsl_demo", c.q, lsql.Options{Now: now})
		var se *lsql.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v is not *sql.Error", c.q, err)
			continue
		}
		if !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s: %q lacks %q", c.q, se.Msg, c.msg)
		}
		if c.at != "" && (se.Pos < 0 || !strings.HasPrefix(c.q[se.Pos:], c.at)) {
			t.Errorf("%s: caret at %d:\n%s", c.q, se.Pos, se.Caret())
		}
	}
	if _, err := lsql.Query(context.Background(), s, "nodb", "select 1 from t", lsql.Options{}); err == nil || !strings.Contains(err.Error(), "has no tables") {
		t.Errorf("unknown dbms: %v", err)
	}
	if _, err := lsql.Query(context.Background(), s, "lsl_dem", "select 1 from ping_sensor", lsql.Options{}); err == nil || !strings.Contains(err.Error(), "dbms lsl_dem has no tables; did you mean lsl_demo?") {
		t.Errorf("misspelled dbms: %v", err)
	}
}

func TestCancel(t *testing.T) {
	s := tablestest.Open(t)
	rows := make([][]schema.Value, 20000)
	for i := range rows {
		rows[i] = []schema.Value{schema.Int(int64(i))}
	}
	tablestest.Load(t, s, "d", "big", []schema.Column{{Name: "v", Type: schema.TypeInt}}, rows)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lsql.Query(ctx, s, "d", "select count(*) from big", lsql.Options{}); err == nil {
		t.Fatal("a canceled query answered")
	}
	_ = fmt.Sprint
}

func TestIncrements(t *testing.T) {
	s := pingStore(t)
	res, err := lsql.Query(context.Background(), s, "lsl_demo", "select increments(hour, 6, timestamp), min(timestamp), count(*) from ping_sensor where timestamp > now() - 1 day", lsql.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// now is 12:00; rows at hh:30 for the last 24 hours: buckets 12:00
	// yesterday .. 06:00 today, 6 rows each.
	want := "min(timestamp),count(*)\n" +
		"2026-11-24 12:30:00.000000,6\n2026-11-24 18:30:00.000000,6\n2026-11-25 00:30:00.000000,6\n2026-11-25 06:30:00.000000,6\n"
	if got := render(res); got != want {
		t.Errorf("increments:\n got %q\nwant %q", got, want)
	}
	if _, err := lsql.Query(context.Background(), s, "lsl_demo", "select increments(fortnight, 1, timestamp), count(*) from ping_sensor", lsql.Options{Now: now}); err == nil {
		t.Error("increments with a bad unit succeeded")
	}
}

// TestCommitRange keeps only the rows of the commits in (After, UpTo], as a
// since = last export asks.
func TestCommitRange(t *testing.T) {
	s := tablestest.Open(t)
	cols := []schema.Column{{Name: "v", Type: schema.TypeInt}}
	tbl, err := s.EnsureTable("d", "t", cols)
	if err != nil {
		t.Fatal(err)
	}
	// Three commits of 2, 3 and 4 rows.
	off := int64(0)
	for _, n := range []int{2, 3, 4} {
		var recs []tables.Record
		for range n {
			recs = append(recs, tables.Record{Offset: off, Values: []schema.Value{schema.Int(off)}})
			off++
		}
		if _, err := s.Apply(tbl, []tables.Feed{{Src: 1, Partition: 0, Records: recs, Next: off}}); err != nil {
			t.Fatal(err)
		}
	}
	if seq := s.Stats(tbl).Seq; seq != 3 {
		t.Fatalf("commit sequence %d, want 3", seq)
	}
	cases := []struct {
		r    lsql.CommitRange
		want string
	}{
		{lsql.CommitRange{After: 0, UpTo: 3}, "count(*),min(v),max(v)\n9,0,8\n"},
		{lsql.CommitRange{After: 1, UpTo: 3}, "count(*),min(v),max(v)\n7,2,8\n"},
		{lsql.CommitRange{After: 1, UpTo: 2}, "count(*),min(v),max(v)\n3,2,4\n"},
		{lsql.CommitRange{After: 3, UpTo: 3}, "count(*),min(v),max(v)\n0,NULL,NULL\n"},
	}
	for _, c := range cases {
		res, err := lsql.Query(context.Background(), s, "d", "select count(*), min(v), max(v) from t", lsql.Options{Now: now, Commits: &c.r})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(res); got != c.want {
			t.Errorf("%+v:\n%s\nwant\n%s", c.r, got, c.want)
		}
	}
	// Plain rows too, with only the selected column decoded.
	res, err := lsql.Query(context.Background(), s, "d", "select v from t order by v", lsql.Options{Now: now, Commits: &lsql.CommitRange{After: 2, UpTo: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got := render(res); got != "v\n5\n6\n7\n8\n" {
		t.Errorf("rows of commit 3:\n%s", got)
	}
	if _, err := lsql.Query(context.Background(), s, "d", "select v from t limit 2", lsql.Options{Now: now, Commits: &lsql.CommitRange{UpTo: 3}}); err == nil || !strings.Contains(err.Error(), "LIMIT and OFFSET are not allowed") {
		t.Errorf("LIMIT with a commit range: %v", err)
	}
}

// A qualified table name reads that dbms's table (public is PostgreSQL's
// schema, not a dbms).
func TestQualifiedTable(t *testing.T) {
	s := pingStore(t)
	for _, tc := range []struct{ dbms, q string }{
		{"other", "select count(*) from lsl_demo.ping_sensor"},
		{"lsl_demo", "select count(*) from public.ping_sensor"},
		{"lsl_demo", "select count(*) from ping_sensor"},
	} {
		r, err := lsql.Query(context.Background(), s, tc.dbms, tc.q, lsql.Options{Now: now})
		if err != nil || len(r.Rows) != 1 || r.Rows[0][0].I != 48 {
			t.Fatalf("%s in %s: %v %v", tc.q, tc.dbms, err, r)
		}
		if d, tb, err := lsql.TableIn(tc.dbms, tc.q); err != nil || d != "lsl_demo" || tb != "ping_sensor" {
			t.Fatalf("TableIn(%s, %s) = %s %s %v", tc.dbms, tc.q, d, tb, err)
		}
	}
}
