package command

import (
	"slices"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	tables := []CompletionTable{
		{DBMS: "litsanleandro", Name: "cpu", Columns: []string{"host", "load"}},
		{DBMS: "litsanleandro", Name: "ping_sensor", Columns: []string{"device_name", "timestamp", "value"}},
		{DBMS: "lsl_demo", Name: "ping_sensor", Columns: []string{"timestamp", "value"}},
	}
	// A "|" in line marks the cursor.
	tests := []struct {
		line string
		want []string
	}{
		{"|", nil}, // checked below: every first word
		{"ge|", []string{"get"}},
		{"get |", []string{"columns", "databases", "error", "msg", "nodes", "operator", "processes", "queries", "rows", "scheduler", "streaming", "tables", "version"}},
		{"get versi|", []string{"version"}},
		{"GET VERSI|", []string{"version"}},
		{"get msg |", []string{"brokers", "client"}},
		{"get msg client |", []string{"where"}},
		{"get msg client where |", []string{"broker", "detailed", "format", "id", "statistics", "topic"}},
		{"get msg client where detailed = |", []string{"true"}},
		{"get msg client where detailed = true |", []string{"and"}},
		{"get msg client where detailed = true and |", []string{"broker", "format", "id", "statistics", "topic"}},
		{"get operator |", []string{"config", "error", "inserts", "json", "sql", "summary", "where"}},
		{"get operator summary |", []string{"where"}},
		{"get operator summary where |", []string{"format"}},
		{"get tables where dbms = |", []string{"*", "litsanleandro", "lsl_demo"}},
		{"get tables where dbms = l|", []string{"litsanleandro", "lsl_demo"}},
		{"get columns where dbms = lsl_demo and table = |", []string{"ping_sensor"}},
		{"get columns where dbms = litsanleandro and table = |", []string{"cpu", "ping_sensor"}},
		{"get columns where table = |", []string{"cpu", "ping_sensor"}},
		{"set retention where dbms = lsl_demo and table = ping_sensor and keep = 30 |", []string{"days"}},
		{"set retention where dbms = lsl_demo and table = ping_sensor and keep = 30 days |", []string{"and"}},
		{"drop table |", []string{"cpu", "ping_sensor"}},
		{"drop table cpu |", []string{"where"}},
		{"drop table cpu where dbms = |", []string{"litsanleandro", "lsl_demo"}},
		{"exit |", []string{"kafka", "scheduler"}},
		{"canc|", []string{"cancel"}},
		{"cancel |", []string{"query"}},
		{"get que|", []string{"queries"}},
		{"get queries |", []string{"where"}},
		{"get queries where |", []string{"format"}},
		{"run |", []string{"blockchain", "client", "kafka", "operator", "publisher", "rest", "scheduler", "streamer", "tcp"}},
		{"help |", nil}, // checked below: every first word
		{"help get m|", []string{"msg"}},
		{"frobnicate |", nil},
		{"<run kafka consumer where ip = 127.0.0.1 and port = 9092 and reset = |", []string{"earliest", "latest"}},
		{"run kafka consumer where ip = 127.0.0.1 and topic = (name = t and dbms = |", []string{"litsanleandro", "lsl_demo"}},
		{"run kafka consumer where ip = 1 and topic = (name = t and errors = |", []string{"fail", "skip", "table"}},
		{`run kafka consumer where ip = 1 and topic = (name = t and column.v.int = "bring [v|`, nil},
		{"task |", []string{"init", "remove", "resume", "run", "stop", "where"}},
		{`schedule time = 1 minute and name = "x" |`, []string{"and", "task"}},
		{`schedule time = 1 minute and name = "x" task get |`, []string{"columns", "databases", "error", "msg", "nodes", "operator", "processes", "queries", "rows", "scheduler", "streaming", "tables", "version"}},
		{`schedule time = 1 minute and name = "x" task sql lsl_demo "select count(*) from |`, []string{"ping_sensor"}},
		// sql: the dbms, options, then the query.
		{"sql |", []string{"litsanleandro", "lsl_demo"}},
		{"sql li|", []string{"litsanleandro"}},
		{"sql lsl_demo |", []string{"compression", "dest", "file", "format", "key", "max_time", "password", "sasl", "since", "stat", "timezone", "tls", "tls_ca", "tls_cert", "tls_key", "topic", "user"}},
		{"sql lsl_demo format = |", []string{"csv", "json", "json:list", "json:output", "table"}},
		{"sql lsl_demo format = json:o|", []string{"json:output"}},
		{"sql lsl_demo format = table |", []string{"and"}},
		{"sql lsl_demo format = table and |", []string{"compression", "dest", "file", "key", "max_time", "password", "sasl", "since", "stat", "timezone", "tls", "tls_ca", "tls_cert", "tls_key", "topic", "user"}},
		{`sql lsl_demo "|`, []string{"select"}},
		{`sql lsl_demo "select |`, []string{"timestamp", "value"}},
		{`sql litsanleandro "select |`, []string{"device_name", "host", "load", "timestamp", "value"}},
		{`sql litsanleandro "select |from cpu"`, []string{"host", "load"}},
		{`sql litsanleandro "select d|, count(*) from ping_sensor"`, []string{"device_name"}},
		{`sql litsanleandro format = table "select device_name, |`, []string{"device_name", "host", "load", "timestamp", "value"}},
		{`sql litsanleandro "select device_name |`, []string{"from"}},
		{`sql litsanleandro "select count(*) |`, []string{"from"}},
		{`sql litsanleandro "select * |`, []string{"from"}},
		{`sql litsanleandro "select device_name from |`, []string{"cpu", "ping_sensor"}},
		{`sql litsanleandro "select device_name from p|`, []string{"ping_sensor"}},
		{`sql litsanleandro "select device_name from ping_sensor |`, []string{"group", "limit", "order", "where"}},
		{`sql litsanleandro "select device_name from ping_sensor where |`, []string{"device_name", "timestamp", "value"}},
		{`sql litsanleandro "select device_name from ping_sensor where value > 3 |`, []string{"and", "group", "limit", "or", "order"}},
		{`sql litsanleandro "select device_name from ping_sensor where value > 3 and |`, []string{"device_name", "timestamp", "value"}},
		{`sql litsanleandro "select device_name from ping_sensor where value |`, nil},
		{`sql litsanleandro "select device_name from ping_sensor where device_name = 'a' |`, []string{"and", "group", "limit", "or", "order"}},
		{`sql litsanleandro "select device_name from ping_sensor group |`, []string{"by"}},
		{`sql litsanleandro "select device_name from ping_sensor group by |`, []string{"device_name", "timestamp", "value"}},
		{`sql litsanleandro "select device_name from ping_sensor order by value |`, []string{"asc", "desc", "limit"}},
		{`sql litsanleandro "select device_name from ping_sensor" |`, nil},
		{`sql litsanleandro select |from cpu`, []string{"host", "load"}},
		{`sql nodbms "select |`, nil},
		{`run client () sql lsl_demo format = json:output and stat = false "select |`, []string{"timestamp", "value"}},
		{`run client (|`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			before, after, ok := strings.Cut(tc.line, "|")
			if !ok {
				t.Fatal("no cursor")
			}
			got := Complete(before, after, tables)
			want := tc.want
			if tc.line == "|" || tc.line == "help |" {
				want = nextNameWords(nil)
				slices.Sort(want)
				want = slices.Compact(want)
				for _, w := range []string{"get", "sql", "run", "drop", "exit", "help"} {
					if !slices.Contains(got, w) {
						t.Errorf("first words %q lack %q", got, w)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Complete(%q, %q) = %q, want %q", before, after, got, want)
			}
		})
	}
}

func TestWordStartAndCursorMark(t *testing.T) {
	for _, tc := range []struct{ before, word string }{
		{"", ""},
		{"get ", ""},
		{"get versi", "versi"},
		{`sql d "select`, "select"},
		{"count(*", ""},
		{"where dbms=lsl", "lsl"},
		{"format = json:o", "json:o"},
		{"a,b", "b"},
	} {
		if got := tc.before[WordStart(tc.before):]; got != tc.word {
			t.Errorf("word of %q = %q, want %q", tc.before, got, tc.word)
		}
	}
	b, a := SplitCursor(MarkCursor("sql d \"select ", " from t\""))
	if b != "sql d \"select " || a != " from t\"" {
		t.Errorf("SplitCursor(MarkCursor) = %q, %q", b, a)
	}
	if b, a := SplitCursor("get ver"); b != "get ver" || a != "" {
		t.Errorf("SplitCursor without a mark = %q, %q", b, a)
	}
}
