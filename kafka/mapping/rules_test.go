package mapping

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// The rules a new user hit (issue 11): alternatives pass over absent, null
// and "" values; "" is no number or timestamp; null is reported as null.
func TestMissingNullAndEmptyValues(t *testing.T) {
	opt := func(name string, typ schema.Type, e spec.Expr) spec.ColumnSpec {
		return spec.ColumnSpec{Name: name, Type: typ, Value: e, Optional: true}
	}
	cases := []struct {
		name   string
		col    spec.ColumnSpec
		msg    string
		want   schema.Value
		detail string // for a rejection: a part of its text
	}{
		{"null alternative", col("temp", schema.TypeFloat, bring("[data][temp]|[data][temperature]|[temp]")), `{"data":{"temp":null,"temperature":23.5}}`, schema.Float(23.5), ""},
		{"empty alternative", col("temp", schema.TypeFloat, bring("[data][temp]|[data][temperature]|[temp]")), `{"data":{"temp":"","temperature":"23.5"}}`, schema.Float(23.5), ""},
		{"last alternative", col("temp", schema.TypeFloat, bring("[data][temp]|[data][temperature]|[temp]")), `{"data":{"temp":null},"temp":1}`, schema.Float(1), ""},
		{"first alternative wins", col("temp", schema.TypeFloat, bring("[data][temp]|[data][temperature]|[temp]")), `{"data":{"temp":2,"temperature":23.5}}`, schema.Float(2), ""},
		{"zero is a value", col("temp", schema.TypeFloat, bring("[data][temp]|[temp]")), `{"data":{"temp":0},"temp":1}`, schema.Float(0), ""},
		{"no alternative has a value", col("temp", schema.TypeFloat, bring("[data][temp]|[data][temperature]|[temp]")), `{"data":{"temp":null,"temperature":null},"temp":""}`, schema.Null, `no alternative of`},
		{"no alternative, optional", opt("temp", schema.TypeFloat, bring("[data][temp]|[temp]")), `{"data":{"temp":null},"temp":""}`, schema.Null, ""},
		{"empty str alternative", col("host", schema.TypeString, bring("[name]|[host]")), `{"name":"","host":"h4"}`, schema.Str("h4"), ""},
		{"str alternative kept", col("host", schema.TypeString, bring("[name]|[host]")), `{"name":"n1","host":"h4"}`, schema.Str("n1"), ""},
		{"str alternatives all empty", col("host", schema.TypeString, bring("[name]|[host]")), `{"name":"","host":null}`, schema.Null, `no alternative of`},
		{"empty str stays empty", col("host", schema.TypeString, bring("[name]")), `{"name":""}`, schema.Str(""), ""},
		{"empty int, optional", opt("i", schema.TypeInt, bring("[i]")), `{"i":""}`, schema.Null, ""},
		{"empty int", col("i", schema.TypeInt, bring("[i]")), `{"i":""}`, schema.Null, `column "i" is "", which is no int; declare it optional = true to store NULL`},
		{"empty float", col("f", schema.TypeFloat, bring("[f]")), `{"f":""}`, schema.Null, `column "f" is ""`},
		{"empty timestamp, optional", opt("ts", schema.TypeTimestamp, bring("[ts]")), `{"ts":""}`, schema.Null, ""},
		{"empty timestamp", col("ts", schema.TypeTimestamp, bring("[ts]")), `{"ts":""}`, schema.Null, `column "ts" is ""`},
		{"blank int is no number", col("i", schema.TypeInt, bring("[i]")), `{"i":" "}`, schema.Null, `does not fit int`},
		{"null", col("f", schema.TypeFloat, bring("[f]")), `{"f":null}`, schema.Null, `column "f" is null; declare it optional = true to store NULL`},
		{"null, optional", opt("f", schema.TypeFloat, bring("[f]")), `{"f":null}`, schema.Null, ""},
		{"absent", col("f", schema.TypeFloat, bring("[f]")), `{"g":1}`, schema.Null, `column "f": bring [f] is missing from the message; declare it optional = true to store NULL`},
		{"null in a concatenation", col("id", schema.TypeString, bring("[a]", "'_", "[b]")), `{"a":"x","b":null}`, schema.Null, `column "id": [b] is null`},
		{"empty in a concatenation", col("id", schema.TypeString, bring("[a]", "'_", "[b]")), `{"a":"x","b":""}`, schema.Str("x_"), ""},
		{"alternatives in a concatenation", col("id", schema.TypeString, bring("[a]", "'_", "[b]|[c]")), `{"a":"x","b":"","c":7}`, schema.Str("x_7"), ""},
		{"empty concatenation in an int", col("n", schema.TypeInt, bring("[a]", "[b]")), `{"a":"","b":""}`, schema.Null, `column "n" is ""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := mustCompile(t, spec.TopicSpec{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{c.col}}).NewEvaluator()
			rows, rej := ev.Map([]byte(c.msg), testNow, nil)
			if c.detail != "" {
				if rej == nil || rej.Reason != MissingColumn && rej.Reason != TypeMismatch || !strings.Contains(rej.Detail, c.detail) || len(rows) != 0 {
					t.Fatalf("rows %v, reject %v; want a rejection saying %q", rows, rej, c.detail)
				}
				return
			}
			if rej != nil || len(rows) != 1 {
				t.Fatalf("rows %v, reject %v", rows, rej)
			}
			if got := rows[0].Values[0]; got != c.want {
				t.Errorf("value %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestBroughtNames(t *testing.T) {
	topic := spec.TopicSpec{Name: "t", DBMS: bring("[db]"), Table: bring("[t1]|[t2]"), Columns: []spec.ColumnSpec{col("v", schema.TypeInt, bring("[v]"))}}
	ev := mustCompile(t, topic).NewEvaluator()
	cases := []struct {
		msg, dbms, table string
		reason           Reason
		detail           string
	}{
		{`{"db":" c14_beta ","t1":"x","v":1}`, "c14_beta", "x", 0, ""},
		{`{"db":"\tMy Co\n","t1":"","t2":" Pumps ","v":1}`, "my_co", "pumps", 0, ""},
		{`{"db":"d","t1":null,"t2":"y","v":1}`, "d", "y", 0, ""},
		{`{"db":null,"t1":"x","v":1}`, "", "", MissingDBMS, "is null"},
		{`{"db":"  ","t1":"x","v":1}`, "", "", MissingDBMS, "is empty"},
		{`{"db":"d","t1":"","v":1}`, "", "", MissingTable, "is missing from the message"},
	}
	for _, c := range cases {
		rows, rej := ev.Map([]byte(c.msg), testNow, nil)
		if c.reason != 0 {
			if rej == nil || rej.Reason != c.reason || !strings.Contains(rej.Detail, c.detail) {
				t.Errorf("%s: reject %v, want %v saying %q", c.msg, rej, c.reason, c.detail)
			}
			continue
		}
		if rej != nil || len(rows) != 1 || rows[0].DBMS != c.dbms || rows[0].Table != c.table {
			t.Errorf("%s: rows %+v reject %v, want %s.%s", c.msg, rows, rej, c.dbms, c.table)
		}
	}
	// A literal name is trimmed too.
	m := mustCompile(t, spec.TopicSpec{Name: "t", DBMS: lit(" c14_beta "), Table: lit("x"), Columns: []spec.ColumnSpec{col("v", schema.TypeInt, bring("[v]"))}})
	if rows, rej := m.NewEvaluator().Map([]byte(`{"v":1}`), testNow, nil); rej != nil || rows[0].DBMS != "c14_beta" {
		t.Errorf("literal name: %+v %v", rows, rej)
	}
}

func TestNotJSONReasons(t *testing.T) {
	deep := strings.Repeat("[", 400) + strings.Repeat("]", 400)
	// Past encoding/json's own limit (10,000), which names a character.
	deeper := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObj := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	cases := []struct{ msg, want string }{
		{`{'k': 'v'}`, "not JSON: single quotes are not allowed (offset 1)"},
		{`{"k": 'v'}`, "not JSON: single quotes are not allowed (offset 6)"},
		{`{"a":1,}`, "not JSON: a trailing comma is not allowed (offset 7)"},
		{`[1, 2 ,]`, "not JSON: a trailing comma is not allowed (offset 7)"},
		{`hello`, "not JSON: unexpected character 'h' (offset 0)"},
		{``, "not JSON: the message is empty"},
		{" \n", "not JSON: the message is empty"},
		{`{"a":`, "not JSON: the message ends before its JSON value does (offset 5)"},
		{`{"a":1} x`, "not JSON: more text after the JSON value (offset 8)"},
		{`{"a":None}`, "not JSON: None is not JSON (write null) (offset 5)"},
		{`{"a":True}`, "not JSON: True is not JSON (write true) (offset 5)"},
		{`{"a":-Infinity}`, "not JSON: Infinity is not a JSON number (offset 6)"},
		{"{\"a\":\xff}", "not JSON: unexpected byte 0xff (offset 5)"},
		{deep, "not JSON: nested deeper than 300 levels"},
		{deeper, "not JSON: nested deeper than 300 levels"},
		{deepObj, "not JSON: nested deeper than 300 levels"},
		{strings.Repeat("[", 100000), "not JSON: nested deeper than 300 levels"},
		{strings.Repeat("[", 299) + "x", "not JSON: unexpected character 'x' (offset 299)"},
	}
	ev := mustCompile(t, seedTopic()).NewEvaluator()
	for _, c := range cases {
		_, rej := ev.Map([]byte(c.msg), testNow, nil)
		if rej == nil || rej.Reason != NotJSON || rej.Detail != c.want {
			t.Errorf("%.40q: reject %v, want %q", c.msg, rej, c.want)
		}
	}
}

func TestReasonsAreShort(t *testing.T) {
	long := strings.Repeat("é", 400)
	topic := spec.TopicSpec{Name: "t", DBMS: lit("d"), Table: lit("x"), Columns: []spec.ColumnSpec{col("v", schema.TypeInt, bring("["+long+"]"))}}
	ev := mustCompile(t, topic).NewEvaluator()
	msgs := []string{
		`{"x":1}`,                         // missing, naming the 800-byte path
		`{"` + long + `":"` + long + `"}`, // a long value that does not fit
		`[` + strings.Repeat(`{"x":1},`, 2000) + `{"x":1}]`,
		strings.Repeat(`{"a":`, 20000), // the parser's error repeats once per level
		strings.Repeat(`[`, 20000),
	}
	for _, m := range msgs {
		_, rej := ev.Map([]byte(m), testNow, nil)
		if rej == nil {
			t.Fatalf("%.40q mapped", m)
		}
		if s := rej.Error(); len(s) > MaxReasonBytes || !utf8.ValidString(s) {
			t.Errorf("%.40q: a %d-byte reason %q", m, len(s), s)
		}
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	topic := spec.TopicSpec{Name: "t", DBMS: lit("d"), Table: bring("[t]"), Columns: []spec.ColumnSpec{
		col("s", schema.TypeString, bring("[s]")),
		col("o", schema.TypeString, bring("[o]")),
		col("n", schema.TypeInt, bring("[n]")),
	}}
	ev := mustCompile(t, topic).NewEvaluator()
	rows, rej := ev.Map([]byte("{\"t\":\"ta\xffb\",\"s\":\"a\xffb\xc3 \xe6\xbc\xa2\",\"o\":{\"k\":\"\xfe\xfe\"},\"n\":1}"), testNow, nil)
	if rej != nil || len(rows) != 1 {
		t.Fatalf("rows %v reject %v", rows, rej)
	}
	v := rows[0].Values
	if v[0].S != "a\uFFFDb\uFFFD 漢" || v[1].S != `{"k":"`+"\uFFFD\uFFFD"+`"}` || v[2] != schema.Int(1) {
		t.Errorf("values %q %q %v", v[0].S, v[1].S, v[2])
	}
	if !utf8.ValidString(rows[0].Table) {
		t.Errorf("table name %q", rows[0].Table)
	}
	if n := ev.Repaired(); n != 5 {
		t.Errorf("repaired %d bytes, want 5", n)
	}
	if _, rej := ev.Map([]byte(`{"t":"x","s":"é","o":1,"n":2}`), testNow, nil); rej != nil || ev.Repaired() != 0 {
		t.Errorf("a valid message: %v, repaired %d", rej, ev.Repaired())
	}
	// A rejection's text quoting the value is valid UTF-8 too.
	if _, rej := ev.Map([]byte("{\"t\":\"x\",\"s\":\"a\",\"o\":1,\"n\":\"\xff\"}"), testNow, nil); rej == nil || rej.Reason != TypeMismatch || !utf8.ValidString(rej.Detail) {
		t.Errorf("reject %v", rej)
	}
}

func TestAppendValidUTF8(t *testing.T) {
	cases := []struct {
		in, out string
		n       int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"é漢🎉", "é漢🎉", 0},
		{"\xff", "\uFFFD", 1},
		{"a\xc3", "a\uFFFD", 1},
		{"\xe6\xbc", "\uFFFD\uFFFD", 2},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", 3}, // an encoded surrogate
		{"x\xf0\x9f\x8e\x89\x80y", "x🎉\uFFFDy", 1},
	}
	for _, c := range cases {
		got, n := appendValidUTF8(nil, []byte(c.in))
		if string(got) != c.out || n != c.n {
			t.Errorf("%q: %q %d, want %q %d", c.in, got, n, c.out, c.n)
		}
	}
}

func TestClipText(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg..."},
		{"ééééé", 8, "éé..."},
		{"abc", 2, "ab"},
		{"éa", 1, ""},
		{"abc", 0, ""},
	}
	for _, c := range cases {
		if got := ClipText(c.in, c.max); got != c.want {
			t.Errorf("ClipText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
