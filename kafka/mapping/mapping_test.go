package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

var testNow = time.Date(2026, 11, 24, 18, 18, 16, 353051000, time.UTC)

func bring(paths ...string) spec.Expr {
	// A tiny bring builder for tests: "[a][b]" keys, "[]" each, "#3" index,
	// "'lit" literal, "[a]|[b]" alternatives.
	e := spec.Expr{Kind: spec.ExprBring, Text: "bring " + strings.Join(paths, " ")}
	for _, p := range paths {
		if strings.HasPrefix(p, "'") {
			e.Parts = append(e.Parts, spec.BringPart{Literal: p[1:]})
			continue
		}
		var part spec.BringPart
		for _, alt := range strings.Split(p, "|") {
			var steps []spec.PathStep
			for _, k := range strings.Split(strings.Trim(alt, "[]"), "][") {
				switch {
				case k == "":
					steps = append(steps, spec.PathStep{Each: true})
				case strings.HasPrefix(k, "#"):
					n := 0
					for _, c := range k[1:] {
						n = n*10 + int(c-'0')
					}
					steps = append(steps, spec.PathStep{Index: n, IsIndex: true})
				default:
					steps = append(steps, spec.PathStep{Key: k})
				}
			}
			part.Paths = append(part.Paths, steps)
		}
		e.Parts = append(e.Parts, part)
	}
	return e
}

func lit(s string) spec.Expr { return spec.Expr{Kind: spec.ExprLiteral, Literal: s, Text: s} }

func col(name string, t schema.Type, e spec.Expr) spec.ColumnSpec {
	return spec.ColumnSpec{Name: name, Type: t, Value: e}
}

func seedTopic() spec.TopicSpec {
	return spec.TopicSpec{Name: "ping_data", DBMS: lit("lsl_demo"), Table: lit("ping_sensor"), Columns: []spec.ColumnSpec{
		col("timestamp", schema.TypeTimestamp, bring("[timestamp]")),
		col("value", schema.TypeInt, bring("[value]")),
	}}
}

func mustCompile(t testing.TB, ts spec.TopicSpec) *Mapping {
	t.Helper()
	m, err := Compile(ts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ts(s string) schema.Value {
	us, err := schema.ParseTimestamp(s)
	if err != nil {
		panic(err)
	}
	return schema.TimestampMicros(us)
}

func TestSeedMapping(t *testing.T) {
	ev := mustCompile(t, seedTopic()).NewEvaluator()
	cases := []struct {
		msg    string
		want   []schema.Value
		reason Reason
	}{
		{`{"timestamp":"2026-01-01T10:00:00Z","value":42}`, []schema.Value{ts("2026-01-01T10:00:00Z"), schema.Int(42)}, 0},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":"43"}`, []schema.Value{ts("2026-01-01T10:00:00Z"), schema.Int(43)}, 0},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":44.0}`, []schema.Value{ts("2026-01-01T10:00:00Z"), schema.Int(44)}, 0},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":44.7}`, nil, TypeMismatch},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":"abc"}`, nil, TypeMismatch},
		{`{"timestamp":1776294106,"value":1}`, []schema.Value{schema.TimestampMicros(1776294106000000), schema.Int(1)}, 0},
		{`{"timestamp":1776294106000,"value":1}`, []schema.Value{schema.TimestampMicros(1776294106000000), schema.Int(1)}, 0},
		{`{"timestamp":1776294106000000,"value":1}`, []schema.Value{schema.TimestampMicros(1776294106000000), schema.Int(1)}, 0},
		{`{"timestamp":1776294106000000000,"value":1}`, []schema.Value{schema.TimestampMicros(1776294106000000), schema.Int(1)}, 0},
		{`{"timestamp":1776294106.5,"value":1}`, []schema.Value{schema.TimestampMicros(1776294106500000), schema.Int(1)}, 0},
		{`{"timestamp":"2026-04-15T23:01:46+02:00","value":1}`, []schema.Value{ts("2026-04-15T21:01:46Z"), schema.Int(1)}, 0},
		{`{"timestamp":"2026-04-15 23:01:46.123456","value":1}`, []schema.Value{ts("2026-04-15T23:01:46.123456Z"), schema.Int(1)}, 0},
		{`{"timestamp":"yesterday","value":1}`, nil, TypeMismatch},
		{`{"value":1}`, nil, MissingColumn},
		{`{"timestamp":null,"value":1}`, nil, MissingColumn},
		{`hello`, nil, NotJSON},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":1,}`, nil, NotJSON},
		{`{'timestamp': '2026-01-01T10:00:00Z'}`, nil, NotJSON},
		{`"just a string"`, nil, NotObject},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":9223372036854775808}`, nil, TypeMismatch},
		{`{"timestamp":"2026-01-01T10:00:00Z","value":true}`, nil, TypeMismatch},
	}
	for _, c := range cases {
		rows, rej := ev.Map([]byte(c.msg), testNow, nil)
		if c.reason != 0 {
			if rej == nil || rej.Reason != c.reason || len(rows) != 0 {
				t.Errorf("%s: rows %v reject %v, want %v", c.msg, rows, rej, c.reason)
			}
			continue
		}
		if rej != nil || len(rows) != 1 {
			t.Errorf("%s: rows %v reject %v", c.msg, rows, rej)
			continue
		}
		r := rows[0]
		if r.DBMS != "lsl_demo" || r.Table != "ping_sensor" {
			t.Errorf("%s: table %s.%s", c.msg, r.DBMS, r.Table)
		}
		for i := range c.want {
			if r.Values[i] != c.want[i] {
				t.Errorf("%s: column %d = %#v, want %#v", c.msg, i, r.Values[i], c.want[i])
			}
		}
	}
}

func TestStringsRoundTripAndNow(t *testing.T) {
	topic := spec.TopicSpec{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{
		{Name: "ts", Type: schema.TypeTimestamp, Value: spec.Expr{Kind: spec.ExprNow, Text: "now"}},
		col("name", schema.TypeString, bring("[name]")),
		col("site", schema.TypeString, lit("plant 7")),
		col("obj", schema.TypeString, bring("[obj]")),
		col("num", schema.TypeString, bring("[num]")),
		col("ok", schema.TypeBool, bring("[ok]")),
		{Name: "opt", Type: schema.TypeFloat, Optional: true, Value: bring("[missing]")},
		{Name: "later", Type: schema.TypeTimestamp, Value: spec.Expr{Kind: spec.ExprNow, Text: "now"}},
	}}
	ev := mustCompile(t, topic).NewEvaluator()
	for _, name := range []string{`O'Brien`, `C:\temp\new`, `say "hi"`, "é 漢字 🎉", "tab\there"} {
		msg := `{"name":` + jsonQuote(name) + `,"obj":{"a": [1, 2]},"num":1e3,"ok":"true"}`
		rows, rej := ev.Map([]byte(msg), testNow, nil)
		if rej != nil {
			t.Fatalf("%s: %v", msg, rej)
		}
		v := rows[0].Values
		if v[1].S != name {
			t.Errorf("name %q != %q", v[1].S, name)
		}
		if v[0] != schema.Timestamp(testNow) || v[7] != schema.Timestamp(testNow) {
			t.Errorf("now columns %v %v", v[0], v[7])
		}
		if v[2].S != "plant 7" || v[3].S != `{"a":[1,2]}` || v[4].S != "1e3" || v[5] != schema.Bool(true) || !v[6].IsNull() {
			t.Errorf("values %#v", v)
		}
	}
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func TestListsAndBroughtNames(t *testing.T) {
	topic := spec.TopicSpec{Name: "t",
		DBMS:  bring("[meta][company]"),
		Table: bring("[meta][machine]", "'_", "[meta][sn]"),
		Columns: []spec.ColumnSpec{
			col("machine", schema.TypeString, bring("[meta][machine]")),
			col("value", schema.TypeFloat, bring("[readings][][value]")),
			col("kind", schema.TypeString, bring("[readings][][kind]|[readings][][type]")),
			col("first", schema.TypeFloat, bring("[readings][#0][value]")),
		}}
	ev := mustCompile(t, topic).NewEvaluator()
	msg := `{"meta":{"company":"My Co","machine":"Cutter 23","sn":123},"readings":[{"value":1.5,"kind":"a"},{"value":2,"type":"b"},{"value":"3.25","kind":"c"}]}`
	rows, rej := ev.Map([]byte(msg), testNow, nil)
	if rej != nil || len(rows) != 3 {
		t.Fatalf("rows %v reject %v", rows, rej)
	}
	for i, r := range rows {
		if r.DBMS != "my_co" || r.Table != "cutter_23_123" || r.Elem != i || r.Values[0].S != "Cutter 23" || r.Values[3] != schema.Float(1.5) {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if rows[0].Values[1].F != 1.5 || rows[1].Values[2].S != "b" || rows[2].Values[1].F != 3.25 {
		t.Errorf("exploded values: %+v", rows)
	}
	// An empty list: no rows, not an error.
	if rows, rej := ev.Map([]byte(`{"meta":{"company":"c","machine":"m","sn":1},"readings":[]}`), testNow, nil); rej != nil || len(rows) != 0 {
		t.Errorf("empty list: %v %v", rows, rej)
	}
	// A JSON list of messages: one row per element per reading, numbered.
	rows, rej = ev.Map([]byte(`[`+msg+`,`+msg+`]`), testNow, nil)
	if rej != nil || len(rows) != 6 || rows[5].Elem != 5 {
		t.Errorf("list message: %d rows %v", len(rows), rej)
	}
	// A bad element rejects the whole message.
	rows, rej = ev.Map([]byte(`[`+msg+`,{"meta":{"company":"c"}}]`), testNow, nil)
	if rej == nil || len(rows) != 0 {
		t.Errorf("bad element: %d rows %v", len(rows), rej)
	}
	// A missing table name is a rejection.
	if _, rej := ev.Map([]byte(`{"meta":{"company":"c"},"readings":[{"value":1,"kind":"a"}]}`), testNow, nil); rej == nil || rej.Reason != MissingTable {
		t.Errorf("missing table: %v", rej)
	}
}

func TestCompileErrors(t *testing.T) {
	bad := []spec.TopicSpec{
		{Name: "t", DBMS: lit("d"), Table: lit("x")},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("v", schema.TypeInt, lit("abc"))}},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("row_id", schema.TypeInt, bring("[a]"))}},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("a", schema.TypeInt, bring("[a][][b]")), col("b", schema.TypeInt, bring("[c][][d]"))}},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("a", schema.TypeInt, spec.Expr{Kind: spec.ExprBring, Parts: []spec.BringPart{{Paths: [][]spec.PathStep{{{Each: true}, {Key: "b"}}}}}})}},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{{Name: "a", Value: bring("[a]"), TypeExpr: &spec.Expr{Text: "bring [t]"}}}},
		{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("a", schema.TypeInt, spec.Expr{Kind: spec.ExprNow})}},
	}
	for i, b := range bad {
		if _, err := Compile(b); err == nil {
			t.Errorf("case %d compiled", i)
		}
	}
}
