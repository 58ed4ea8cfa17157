package command

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// testVars is the node dictionary of the table tests.
var testVars = map[string]string{"db": "lsl_demo", "loop": "!nope", "dest": "10.0.0.2:32048", "ip": "127.0.0.1", "two": "two words"}

// okCase is a line Parse must turn into want.
type okCase struct {
	line string
	want Request
}

var commandCases = []okCase{
	// Nothing to do.
	{"", nil},
	{"   \t ", nil},
	{"# a comment", nil},
	{"  # an indented comment", nil},
	{"<>", nil},
	{"< >", nil},

	// Variables.
	{"broker_ip = 127.0.0.1", &SetVar{Name: "broker_ip", Value: "127.0.0.1"}},
	{"broker_ip=127.0.0.1", &SetVar{Name: "broker_ip", Value: "127.0.0.1"}},
	{`greeting = "hello   world"`, &SetVar{Name: "greeting", Value: "hello   world"}},
	{`cmd = sql d  "select 1"`, &SetVar{Name: "cmd", Value: `sql d  "select 1"`}},
	{"copy = !ip", &SetVar{Name: "copy", Value: "127.0.0.1"}},
	{"url = http://!ip:80/", &SetVar{Name: "url", Value: "http://!ip:80/"}},
	{"path = $HOME/data", &SetVar{Name: "path", Value: "$HOME/data"}},
	{"ips = !ip and !db", &SetVar{Name: "ips", Value: "127.0.0.1 and lsl_demo"}},
	{"<x = 1>", &SetVar{Name: "x", Value: "1"}},

	// Kafka, buffers, databases.
	{"exit kafka", &ExitKafka{}},
	{"EXIT Kafka", &ExitKafka{}},
	{"flush buffers", &FlushBuffers{}},
	{"connect dbms lsl_demo where type = sqlite", &ConnectDBMS{Name: "lsl_demo", Type: "sqlite"}},
	{"connect dbms LSL-Demo where type = PSQL and ip = 10.0.0.1 and port = 5432 and user = u and password = p", &ConnectDBMS{Name: "lsl_demo", Type: "psql"}},
	{"connect dbms system_query where type = sqlite and memory = true", &ConnectDBMS{Name: "system_query", Type: "sqlite"}},
	{"connect dbms !db where type = sqlite", &ConnectDBMS{Name: "lsl_demo", Type: "sqlite"}},
	{"connect dbms blobs", &ConnectDBMS{Name: "blobs"}},
	{"set buffer threshold where time = 2 seconds and volume = 10KB", &SetBufferThreshold{Time: 2 * time.Second, HasTime: true, Volume: 10240, HasVolume: true}},
	{"set buffer threshold where dbms_name = D and table_name = T and time = 1 minute and volume = 1MB and write_immediate = true",
		&SetBufferThreshold{DBMS: "d", Table: "t", Time: time.Minute, HasTime: true, Volume: 1 << 20, HasVolume: true, WriteImmediate: true, HasWriteImmediate: true}},
	{"set buffer threshold where dbms = d and table = t and time = 3 hours", &SetBufferThreshold{DBMS: "d", Table: "t", Time: 3 * time.Hour, HasTime: true}},
	{"set buffer threshold where write_immediate = false", &SetBufferThreshold{HasWriteImmediate: true}},
	{"set buffer threshold where volume = 10,000", &SetBufferThreshold{Volume: 10000, HasVolume: true}},
	{"drop table Ping_Sensor where dbms = lsl_demo", &DropTable{DBMS: "lsl_demo", Table: "ping_sensor"}},
	{"backup where dir = before-upgrade", &Backup{Dir: "before-upgrade"}},
	{`backup where dir = "nightly/2026-12-06"`, &Backup{Dir: "nightly/2026-12-06"}},
	{"set retention where dbms = d and table = t and keep = 30 days", &SetRetention{DBMS: "d", Table: "t", Keep: 30 * 24 * time.Hour}},
	{"set retention where dbms = d and table = t and keep = 0", &SetRetention{DBMS: "d", Table: "t"}},
	{`task run where name = "export"`, &TaskControl{Op: "run", Name: "export", Scheduler: 1}},
	{`schedule time = 1 hour and name = "a b" and scheduler = 2 task get processes`, &Schedule{Every: time.Hour, Name: "a b", Scheduler: 2, Task: "get processes"}},

	// Running queries.
	{"get queries", &Get{What: "queries", Where: map[string]string{}}},
	{"get queries where format = json", &Get{What: "queries", JSON: true, Where: map[string]string{}}},
	{"cancel query 3", &CancelQuery{ID: 3}},
	{"CANCEL QUERY 12", &CancelQuery{ID: 12}},

	// Scheduler.
	{"run scheduler", &RunScheduler{ID: 1}},
	{"run scheduler 2", &RunScheduler{ID: 2}},
	{"exit scheduler", &ExitScheduler{}},
	{"exit scheduler 3", &ExitScheduler{ID: 3}},
	{`schedule time = 5 minutes and name = "export" task sql d "select 1"`, &Schedule{Every: 5 * time.Minute, Name: "export", Scheduler: 1, Task: `sql d "select 1"`}},
	{`task stop where scheduler = 2 and name = "export"`, &TaskControl{Op: "stop", Name: "export", Scheduler: 2}},

	// Monitoring.
	{"get processes", &Get{What: "processes", Where: map[string]string{}}},
	{"get processes where format = json", &Get{What: "processes", JSON: true, Where: map[string]string{}}},
	{"get processes where format = table", &Get{What: "processes", Where: map[string]string{}}},
	{"GET Processes WHERE Format = JSON", &Get{What: "processes", JSON: true, Where: map[string]string{}}},
	{"get msg client", &Get{What: "msg client", Where: map[string]string{}}},
	{"get msg clients", &Get{What: "msg client", Where: map[string]string{}}},
	{"get msg client where id = 1 and broker = 127.0.0.1:9092 and topic = ping_data and detailed = true and statistics = false and format = json",
		&Get{What: "msg client", JSON: true, Where: map[string]string{"id": "1", "broker": "127.0.0.1:9092", "topic": "ping_data", "detailed": "true", "statistics": "false"}}},
	{"get msg broker", &Get{What: "msg brokers", Where: map[string]string{}}},
	{"get msg brokers", &Get{What: "msg brokers", Where: map[string]string{}}},
	{"get streaming", &Get{What: "streaming", Where: map[string]string{}}},
	{"get streaming where format = json", &Get{What: "streaming", JSON: true, Where: map[string]string{}}},
	{"get streaming config where format = json", &Get{What: "streaming config", JSON: true, Where: map[string]string{}}},
	{"get operator", &Get{What: "operator", Where: map[string]string{}}},
	{"get operator summary", &Get{What: "operator", Topic: "summary", Where: map[string]string{}}},
	{"get operator config", &Get{What: "operator", Topic: "config", Where: map[string]string{}}},
	{"get operator json where format = json", &Get{What: "operator", Topic: "json", JSON: true, Where: map[string]string{}}},
	{"get operator sql", &Get{What: "operator", Topic: "sql", Where: map[string]string{}}},
	{"get operator inserts", &Get{What: "operator", Topic: "inserts", Where: map[string]string{}}},
	{"get operator error", &Get{What: "operator", Topic: "error", Where: map[string]string{}}},
	{"get databases", &Get{What: "databases", Where: map[string]string{}}},
	{"get tables where dbms = *", &Get{What: "tables", Where: map[string]string{"dbms": "*"}}},
	{"get tables where dbms = !db", &Get{What: "tables", Where: map[string]string{"dbms": "lsl_demo"}}},
	{"get columns where dbms = d and table = t", &Get{What: "columns", Where: map[string]string{"dbms": "d", "table": "t"}}},
	{"get rows count", &Get{What: "rows count", Where: map[string]string{}}},
	{"get rows count where dbms = d", &Get{What: "rows count", Where: map[string]string{"dbms": "d"}}},
	{"get rows count where dbms = d and table = t and format = json", &Get{What: "rows count", JSON: true, Where: map[string]string{"dbms": "d", "table": "t"}}},
	{"get error log", &Get{What: "error log", Where: map[string]string{}}},
	{"get nodes", &Get{What: "nodes", Where: map[string]string{}}},
	{"get nodes where format = json", &Get{What: "nodes", JSON: true, Where: map[string]string{}}},
	{"get version", &Get{What: "version", Where: map[string]string{}}},
	{"get scheduler", &Get{What: "scheduler", Where: map[string]string{}}},
	{"get scheduler 2", &Get{What: "scheduler", Topic: "2", Where: map[string]string{}}},

	// Ignored EdgeLake commands.
	{"create work directories", &Ignored{Notice: "create work directories: ignored, lakenode keeps everything in its data dir"}},
	{"run tcp server where external_ip = !ip and external_port = 32048", &Ignored{Notice: "run tcp server: ignored, nodes talk through remote actor messages on --listen"}},
	{"run rest server where internal_ip = !ip and internal_port = 32049", &Ignored{Notice: "run rest server: ignored, the REST port is --http"}},
	{"run streamer", &Ignored{Notice: "run streamer: ignored, lakenode streams rows straight to its tables"}},
	{"Run Operator where create_table = true and policy = !operator_policy", &Ignored{Notice: "run operator: ignored, every lakenode node stores what it consumes"}},
	{"run blockchain sync where source = master and time = 30 seconds", &Ignored{Notice: "run blockchain sync: ignored, lakenode keeps no metadata ledger"}},
	{"run publisher where compress_json = true", &Ignored{Notice: "run publisher: ignored, lakenode stores rows where they are consumed"}},
	{"blockchain get operator", &Ignored{Notice: "blockchain: ignored, lakenode keeps no metadata ledger"}},
	{"set node name node1", &Ignored{Notice: "set node name: ignored, the node name is --name"}},

	// Help.
	{"help", &HelpRequest{}},
	{"help Run  Kafka Consumer", &HelpRequest{Topic: "run kafka consumer"}},
}

func TestCommands(t *testing.T) {
	for _, c := range commandCases {
		got, err := Parse(c.line, testVars)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q\n got %#v\nwant %#v", c.line, got, c.want)
		}
	}
}

var commandErrorCases = []errCase{
	{"frobnicate", statusUnsupported, "frobnicate", ""},
	{"frobnicate the widget now please", statusUnsupported, "frobnicate the widget now ...", ""},
	{"exit kafka now", statusUnsupported, "exit kafka now", ""},
	{"run streamers", statusUnsupported, "run streamers", ""},
	{"exit", statusUnsupported, "exit", ""},
	{`"quoted"`, statusUnsupported, `"quoted"`, ""},
	{"!nope", statusStructure, "unknown variable !nope (assign it with `nope = value`)", "!nope"},
	{"get tables where dbms = !nope", statusStructure, "unknown variable !nope (assign it with `nope = value`)", "!nope"},
	{"x = !nope", statusStructure, "unknown variable !nope (assign it with `nope = value`)", "!nope"},
	{"x =", statusStructure, "missing value for the variable x", ""},
	{"!x = 1", statusStructure, "a variable is assigned without its !: x = value", "!x"},
	{`x = "open`, statusStructure, `unterminated " string`, `"open`},

	{"connect dbms", statusStructure, "usage: connect dbms NAME where type = sqlite|psql|mongo ...", ""},
	{"connect dbms d type = sqlite", statusStructure, "usage: connect dbms NAME where type = sqlite|psql|mongo ...", "type"},
	{"connect dbms d where type = oracle", statusWrongValue, "The value 'oracle' is not allowed for the key 'type' (sqlite, psql or mongo)", "oracle"},
	{"set buffer threshold where dbms = d", statusStructure, "set buffer threshold needs time, volume or write_immediate", ""},
	{"set buffer threshold time = 1", statusStructure, "", ""},
	{"set buffer threshold where colour = red", statusStructure, "Unknown key in AnyLog command: colour", "colour"},
	{"set buffer threshold where write_immediate = maybe", statusWrongValue, "The value 'maybe' is not allowed for the key 'write_immediate'", "maybe"},
	{"set buffer threshold where time = 1 fortnight", statusWrongValue, "'fortnight' is not a time unit: use seconds, minutes, hours or days", "1 fortnight"},
	{"set buffer threshold where time = soon", statusWrongValue, "'soon' is not a time: use N seconds, minutes, hours or days", "soon"},
	{"set buffer threshold where volume = 10TB", statusWrongValue, "'10TB' is not a volume: use bytes, NKB, NMB or NGB", "10TB"},
	{"set buffer threshold where volume = -1", statusWrongValue, "'-1' is not a volume: use bytes, NKB, NMB or NGB", "-1"},
	{"drop table t", statusStructure, "usage: drop table NAME where dbms = DBMS", ""},
	{"backup", statusStructure, "usage: backup where dir = NAME (a new directory under the node's --backup-dir)", ""},
	{"backup where name = x", statusStructure, "Unknown key in AnyLog command: name", "name = x"},
	{"drop table t where dbms = d and table = t", statusStructure, "Unknown key in AnyLog command: table", "table = t"},
	{"set retention where dbms = d and table = t and keep = soon", statusWrongValue, "'soon' is not a time: use N seconds, minutes, hours or days", "soon"},
	{"set retention where dbms = d and table = t and keep = 1 day and colour = red", statusStructure, "Unknown key in AnyLog command: colour", "colour"},
	{"set retention dbms = d", statusStructure, "", ""},
	{"get = 5", statusStructure, `unexpected "="`, "="},
	{"set retention where dbms = d and keep = 1 day", statusStructure, "usage: set retention where dbms = DBMS and table = TABLE and keep = N days (0 keeps rows forever)", ""},
	{"run scheduler x", statusStructure, "a scheduler id is a number from 1", "x"},
	{"cancel query", statusStructure, "usage: cancel query ID (an id of get queries)", ""},
	{"cancel query x", statusStructure, "a query id is a number from 1 (see get queries)", "x"},
	{"cancel query 0", statusStructure, "a query id is a number from 1 (see get queries)", "0"},
	{"cancel query 1 2", statusStructure, "usage: cancel query ID (an id of get queries)", "2"},
	{"run scheduler 1 2", statusStructure, "a scheduler id is a number from 1", "1 2"},
	{`schedule name = "x" task get processes`, statusStructure, `usage: schedule time = N seconds|minutes|hours|days and name = "NAME" [and start = DATE|now()|"start of day"|+N unit] [and scheduler = ID] task COMMAND`, ""},
	{`schedule time = 1 minute and name = "x"`, statusStructure, `usage: schedule time = N seconds|minutes|hours|days and name = "NAME" [and start = DATE|now()|"start of day"|+N unit] [and scheduler = ID] task COMMAND`, ""},
	{`schedule time = 0 seconds and name = "x" task get processes`, statusWrongValue, "The value '0 seconds' is not allowed for the key 'time'", "0 seconds"},
	{`schedule time = 1 minute and name = "x" and scheduler = 0 task get processes`, statusWrongValue, "a scheduler id is a number from 1", "0 task"},
	{`schedule time = 1 minute and name = "x" and start = soon task get processes`, statusWrongValue, "start = soon: not a date, now(), start of year|month|day|hour|minute or +N unit", "soon"},
	{`schedule time = 1 minute and name = "x" and colour = red task get processes`, statusStructure, "Unknown key in AnyLog command: colour", "colour"},
	{`task halt where name = "x"`, statusStructure, `usage: task stop|resume|remove|run|init where [scheduler = ID and] name = "NAME" [and start = DATE|+N unit (init)]`, "halt"},
	{`task stop where scheduler = 1`, statusStructure, `usage: task stop|resume|remove|run|init where [scheduler = ID and] name = "NAME" [and start = DATE|+N unit (init)]`, ""},
	{`task stop where name = "x" and colour = red`, statusStructure, "Unknown key in AnyLog command: colour", "colour"},
	{`task stop where name = "x" and scheduler = -1`, statusWrongValue, "a scheduler id is a number from 1", "-1"},

	{"get nothing", statusUnsupported, "get nothing", ""},
	{"get", statusUnsupported, "get", ""},
	{"get msg client where broker = !ip:9092", statusStructure, "unknown variable !ip:9092 (assign it with `ip:9092 = value`)", "!ip"},
	{"get operator banana", statusStructure, `get operator takes summary, config, json, sql, inserts or error, not "banana"`, "banana"},
	{"get scheduler x", statusStructure, "a scheduler id is a number from 1", "x"},
	{"get tables", statusStructure, "usage: get tables where dbms = NAME (or *)", ""},
	{"get columns where dbms = d", statusStructure, "usage: get columns where dbms = NAME and table = NAME", ""},
	{"get processes where", statusStructure, "a key must follow `where`", ""},
	{"get processes where format = yaml", statusWrongValue, "The value 'yaml' is not allowed for the key 'format'", "yaml"},
	{"get processes where color = red", statusStructure, "Unknown key in AnyLog command: color", "color"},
	{"get msg client where id = x", statusWrongValue, "The value 'x' is not allowed for the key 'id' (a subscription number)", "x"},
	{"get msg client where detailed = yes", statusWrongValue, "The value 'yes' is not allowed for the key 'detailed'", "yes"},
	{"get msg client where id = 1 and id = 2", statusStructure, "Duplicate key in AnyLog command: id", "id = 2"},
	{"get msg client where topic = (a = b)", statusWrongValue, "The key 'topic' takes a value, not a list", "(a"},
	{"get tables where dbms = d and", statusStructure, "a key must follow `and`", ""},
	{"get tables where dbms = d or table = t", statusStructure, "", ""},
}

func TestCommandErrors(t *testing.T) {
	for _, c := range commandErrorCases {
		checkErr(t, c, testVars)
	}
}

func TestGetAccessors(t *testing.T) {
	req, err := Parse("get msg client where id = 7 and detailed = TRUE", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := req.(*Get)
	if id, ok := g.ID(); !ok || id != 7 {
		t.Errorf("ID() = %d, %v", id, ok)
	}
	if !g.Flag("detailed") || g.Flag("statistics") {
		t.Errorf("Flag: detailed %v statistics %v", g.Flag("detailed"), g.Flag("statistics"))
	}
	req, err = Parse("get columns where dbms = d and table = t", nil)
	if err != nil {
		t.Fatal(err)
	}
	g = req.(*Get)
	if _, ok := g.ID(); ok || g.DBMS() != "d" || g.Table() != "t" {
		t.Errorf("accessors %+v", g)
	}
}

func TestDurationsAndVolumes(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
	}{
		{"30", 30 * time.Second}, {"1 second", time.Second}, {"2 seconds", 2 * time.Second}, {"90s", 90 * time.Second},
		{"1 minute", time.Minute}, {"5 min", 5 * time.Minute}, {"5m", 5 * time.Minute}, {"4t", 4 * time.Minute},
		{"2 Hours", 2 * time.Hour}, {"1h", time.Hour}, {"1 day", 24 * time.Hour}, {"3d", 72 * time.Hour},
		{"1 week", 7 * 24 * time.Hour}, {"0.5 seconds", 500 * time.Millisecond}, {"0", 0},
	}
	for _, c := range durations {
		got, err := parseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", "-1 seconds", "1 2 3", "1 year", "1e400 days", "NaN"} {
		if d, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", bad, d)
		}
	}
	volumes := []struct {
		in   string
		want int64
	}{
		{"10000", 10000}, {"10KB", 10240}, {"10 KB", 10240}, {"10kb", 10240}, {"2MB", 2 << 20}, {"1 GB", 1 << 30},
		{"1,024", 1024}, {"5K", 5120}, {"100B", 100},
	}
	for _, c := range volumes {
		got, err := parseVolume(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseVolume(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "KB", "1.5MB", "-1", "10TB", "9999999999999GB"} {
		if v, err := parseVolume(bad); err == nil {
			t.Errorf("parseVolume(%q) = %d, want an error", bad, v)
		}
	}
}

func TestLexer(t *testing.T) {
	type tk struct {
		kind      tokKind
		text, raw string
		pos       int
		quote     byte
	}
	cases := []struct {
		line string
		want []tk
	}{
		{`ip=1.2.3.4`, []tk{{tokWord, "ip", "ip", 0, 0}, {tokEq, "=", "=", 2, 0}, {tokWord, "1.2.3.4", "1.2.3.4", 3, 0}}},
		{`a "b c" 'd'`, []tk{{tokWord, "a", "a", 0, 0}, {tokString, "b c", `"b c"`, 2, '"'}, {tokString, "d", "'d'", 8, '\''}}},
		{`x=(y)`, []tk{{tokWord, "x", "x", 0, 0}, {tokEq, "=", "=", 1, 0}, {tokLParen, "(", "(", 2, 0}, {tokWord, "y", "y", 3, 0}, {tokRParen, ")", ")", 4, 0}}},
		{`[a]['b c'] [d`, []tk{{tokWord, "[a]['b c']", "[a]['b c']", 0, 0}, {tokWord, "[d", "[d", 11, 0}}},
		{`a'b'c"d"`, []tk{{tokWord, "a", "a", 0, 0}, {tokString, "b", `'b'`, 1, '\''}, {tokWord, "c", "c", 4, 0}, {tokString, "d", `"d"`, 5, '"'}}},
		{"a\tb\r\n", []tk{{tokWord, "a", "a", 0, 0}, {tokWord, "b", "b", 2, 0}}},
		{`""`, []tk{{tokString, "", `""`, 0, '"'}}},
	}
	for _, c := range cases {
		toks, err := lex(c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		var got []tk
		for _, x := range toks {
			got = append(got, tk{x.kind, x.text, x.raw, x.pos, x.quote})
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
	// An unclosed quote in a bracket ends the word, then opens a string
	// that never closes.
	for line, pos := range map[string]int{`[a]['b c`: 4, `x "y`: 2, `'`: 0} {
		_, err := lex(line)
		ce, ok := err.(*Error)
		if !ok || ce.Pos != pos || !strings.HasPrefix(ce.Detail, "unterminated ") {
			t.Errorf("%q: %v, want an unterminated string at %d", line, err, pos)
		}
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{Status: "S", Detail: "D"}, "S: D"},
		{Error{Status: "S"}, "S"},
		{Error{Detail: "D"}, "D"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
	_, err := Parse("get processes where color = red", nil)
	want := "get processes where color = red\n" + strings.Repeat(" ", 20) + "^"
	if got := err.(*Error).Caret(); got != want {
		t.Errorf("caret\n%s\nwant\n%s", got, want)
	}
	carets := []struct {
		e    Error
		want string
	}{
		{Error{Line: "a\tbad", Pos: 2}, "a\tbad\n \t^"},
		{Error{Line: "héllo x", Pos: 7}, "héllo x\n      ^"},
		{Error{Line: "end", Pos: 99}, "end\n   ^"},
		{Error{Line: "x", Pos: -1}, ""},
		{Error{Line: "a\nb", Pos: 0}, ""},
	}
	for _, c := range carets {
		if got := c.e.Caret(); got != c.want {
			t.Errorf("%+v: caret %q, want %q", c.e, got, c.want)
		}
	}
}
