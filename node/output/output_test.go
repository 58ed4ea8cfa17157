package output

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// The examples of EdgeLake's own output (reference §3), reproduced from the
// same data; trailing blanks are part of the layout.
func TestTableLayoutMatchesEdgeLake(t *testing.T) {
	processes := Table{Indent: "    ", Header: [][]string{{"Process", "Status", "Details"}}, Rows: [][]string{
		{"TCP", "Running", "Listening on: 127.0.0.1:32148, Threads Pool: 6"},
		{"REST", "Not declared", "No active connection, Timeout: 0, SSL: False"},
		{"Streamer", "Running", "Default streaming thresholds are 2 seconds and 10,240 bytes"},
	}}
	want := "" +
		"    Process  Status       Details                                                     \n" +
		"    --------|------------|-----------------------------------------------------------|\n" +
		"    TCP     |Running     |Listening on: 127.0.0.1:32148, Threads Pool: 6             |\n" +
		"    REST    |Not declared|No active connection, Timeout: 0, SSL: False               |\n" +
		"    Streamer|Running     |Default streaming thresholds are 2 seconds and 10,240 bytes|\n"
	if got := processes.String(); got != want {
		t.Errorf("get processes:\n%s\nwant:\n%s", got, want)
	}
	brokers := Table{Indent: "     ", Header: [][]string{{"Broker", "Topic", "Client ID", "Messages", "Success", "Failure"}},
		Rows: [][]string{{"127.0.0.1:9092", "ping_data", "1", "7", "6", "1"}, {"127.0.0.1:9092", "t2", "2", "2", "2", "0"}}}
	want = "" +
		"     Broker         Topic     Client ID Messages Success Failure \n" +
		"     --------------|---------|---------|--------|-------|-------|\n" +
		"     127.0.0.1:9092|ping_data|        1|       7|      6|      1|\n" +
		"     127.0.0.1:9092|t2       |        2|       2|      2|      0|\n"
	if got := brokers.String(); got != want {
		t.Errorf("get msg brokers:\n%s\nwant:\n%s", got, want)
	}
	cfg := Table{Title: "Flush Thresholds", Header: [][]string{{"Threshold", "Value", "Streamer"}},
		Rows: [][]string{{"Threshold Time", "2", "Running"}, {"Threshold Volume", "10,240", ""}, {"Write Immediate", "False", ""}}}
	want = "Flush Thresholds\n" +
		"Threshold        Value  Streamer \n" +
		"----------------|------|--------|\n" +
		"Threshold Time  |     2|Running |\n" +
		"Threshold Volume|10,240|        |\n" +
		"Write Immediate |False |        |\n"
	if got := cfg.String(); got != want {
		t.Errorf("get streaming config:\n%s\nwant:\n%s", got, want)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 10240: "10,240", 1795544306: "1,795,544,306", -1234: "-1,234"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%d) = %s, want %s", in, got, want)
		}
	}
}

// The JSON spellings are those of Python's json.dumps (EdgeLake's).
func TestPythonJSON(t *testing.T) {
	cases := []struct {
		v    schema.Value
		want string
	}{
		{schema.Str("é"), `"\u00e9"`},
		{schema.Str("🎉"), `"\ud83c\udf89"`},
		{schema.Str("a\"b\\c\nd\te"), `"a\"b\\c\nd\te"`},
		{schema.Str("\x01\x7f"), `"\u0001\u007f"`},
		{schema.Str("O'Brien"), `"O'Brien"`},
		{schema.Float(46), `46.0`},
		{schema.Float(1e-05), `1e-05`},
		{schema.Float(1e16), `1e+16`},
		{schema.Float(123.456), `123.456`},
		{schema.Float(math.NaN()), `NaN`},
		{schema.Float(math.Inf(-1)), `-Infinity`},
		{schema.Int(-7), `-7`},
		{schema.Null, `null`},
		{schema.Bool(true), `true`},
		{schema.TimestampMicros(1776294106000000), `"2026-04-15 23:01:46.000000"`},
	}
	for _, c := range cases {
		if got := string(AppendValue(nil, c.v, time.UTC)); got != c.want {
			t.Errorf("%#v: got %s want %s", c.v, got, c.want)
		}
	}
	row := RowJSON(nil, []string{"timestamp", "value"}, schema.Row{schema.TimestampMicros(1776294106000000), schema.Float(46)}, time.UTC)
	if string(row) != `{"timestamp": "2026-04-15 23:01:46.000000", "value": 46.0}` {
		t.Errorf("row: %s", row)
	}
}

func TestObjectAndIndent(t *testing.T) {
	o := (&Object{}).Set("TCP", (&Object{}).Set("Status", "Running")).Set("list", []any{1, "a", nil}).Set("empty", []*Object{})
	compact := JSON(o, false)
	if compact != `{"TCP": {"Status": "Running"}, "list": [1, "a", null], "empty": []}` {
		t.Errorf("compact: %s", compact)
	}
	pretty := JSON(o, true)
	if !strings.Contains(pretty, "\n    \"TCP\": {\n        \"Status\": \"Running\"\n    },") || !strings.Contains(pretty, `"empty": []`) {
		t.Errorf("pretty:\n%s", pretty)
	}
}
