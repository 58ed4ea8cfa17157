package command

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// defaultSQLOptions are the options of a sql command that sets none.
func defaultSQLOptions() SQLOptions {
	return SQLOptions{Format: "json", Stat: true, Timezone: "utc", Dest: "stdout"}
}

func sqlOpts(f func(*SQLOptions)) SQLOptions {
	o := defaultSQLOptions()
	f(&o)
	return o
}

// sqlAt builds the expected SQL of line, with QueryPos where query starts.
func sqlAt(line, dbms string, o SQLOptions, query string) *SQL {
	return &SQL{DBMS: dbms, Options: o, Query: query, QueryPos: strings.Index(line, query)}
}

var sqlCases = func() []okCase {
	var cs []okCase
	add := func(line, dbms string, o SQLOptions, query string) {
		cs = append(cs, okCase{line, sqlAt(line, dbms, o, query)})
	}
	add(`sql lsl_demo "select count(*) from ping_sensor"`, "lsl_demo", defaultSQLOptions(), "select count(*) from ping_sensor")
	add(`sql lsl_demo 'select count(*) from ping_sensor'`, "lsl_demo", defaultSQLOptions(), "select count(*) from ping_sensor")
	add(`sql lsl_demo select * from t where a = 'x'  and b >= 2`, "lsl_demo", defaultSQLOptions(), "select * from t where a = 'x'  and b >= 2")
	add(`SQL d SELECT 1`, "d", defaultSQLOptions(), "SELECT 1")
	add(`sql d insert into t values (1)`, "d", defaultSQLOptions(), "insert into t values (1)")
	add(`sql d create table t (a int)`, "d", defaultSQLOptions(), "create table t (a int)")
	add(`sql d format = table "select a from t"`, "d", sqlOpts(func(o *SQLOptions) { o.Format = "table" }), "select a from t")
	add(`sql d format = table select a from t where b != 3`, "d", sqlOpts(func(o *SQLOptions) { o.Format = "table" }), "select a from t where b != 3")
	add(`sql d Format = JSON:List and STAT = False "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.Format, o.Stat = "json:list", false }), "select 1")
	add(`sql d timezone = UTC and max_time = 30 seconds "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.MaxTime = 30 * time.Second }), "select 1")
	add(`sql d timezone = local "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.Timezone = "local" }), "select 1")
	add(`sql d timezone = Europe/Paris and max_time = 2 minutes "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.Timezone, o.MaxTime = "Europe/Paris", 2*time.Minute }), "select 1")
	add(`sql d dest = file and file = out.json "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.Dest, o.File = "file", "out.json" }), "select 1")
	add(`sql d dest = rest "select 1"`, "d", sqlOpts(func(o *SQLOptions) { o.Dest = "rest" }), "select 1")
	add(`sql d format = json:output and dest = KAFKA@broker.example:9092 and topic = "out topic" "select 1"`, "d",
		sqlOpts(func(o *SQLOptions) {
			o.Format, o.Dest, o.Topic = "json:output", "kafka@broker.example:9092", "out topic"
		}), "select 1")
	add(`sql d format = json:output and dest = kafka@h:1 and topic = t and compression = GZIP and key = device_name "select 1"`, "d",
		sqlOpts(func(o *SQLOptions) {
			o.Format, o.Dest, o.Topic, o.Compression, o.Key = "json:output", "kafka@h:1", "t", "gzip", "device_name"
		}), "select 1")
	add(`sql d dest = kafka@h:1 and topic = t and compression = none and since = last "select 1"`, "d",
		sqlOpts(func(o *SQLOptions) { o.Dest, o.Topic, o.Compression, o.SinceLast = "kafka@h:1", "t", "none", true }), "select 1")
	add(`sql d topic = select and dest = kafka@h:1 select 1`, "d", sqlOpts(func(o *SQLOptions) { o.Dest, o.Topic = "kafka@h:1", "select" }), "select 1")
	add(`sql d "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`, "d", defaultSQLOptions(),
		"select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10")
	// !names are replaced in an unquoted statement, not in a quoted one.
	cs = append(cs,
		okCase{`sql !db select * from t where ip = '!ip'`, &SQL{DBMS: "lsl_demo", Options: defaultSQLOptions(), Query: `select * from t where ip = '!ip'`, QueryPos: 8}},
		okCase{`sql d select !two from t`, &SQL{DBMS: "d", Options: defaultSQLOptions(), Query: `select two words from t`, QueryPos: 6}},
		okCase{`sql d "select !two from t"`, &SQL{DBMS: "d", Options: defaultSQLOptions(), Query: `select !two from t`, QueryPos: 7}},
	)
	return cs
}()

func TestSQL(t *testing.T) {
	for _, c := range sqlCases {
		got, err := Parse(c.line, testVars)
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\n got %#v\nwant %#v", c.line, got, c.want)
		}
		q := got.(*SQL)
		if src := StripBlock(c.line); !strings.Contains(c.line, "!") && src[q.QueryPos:q.QueryPos+len(q.Query)] != q.Query {
			t.Errorf("%s: QueryPos %d does not point at the query", c.line, q.QueryPos)
		}
	}
}

func TestSeedProducer(t *testing.T) {
	req, err := Parse(seedProducer, nil)
	if err != nil {
		t.Fatal(err)
	}
	query := "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"
	want := &RunClient{
		Command: seedProducer[len("run client () "):],
		Inner: &SQL{DBMS: "litsanleandro", Query: query, QueryPos: strings.Index(seedProducer, query) - len("run client () "),
			Options: sqlOpts(func(o *SQLOptions) {
				o.Format, o.Stat, o.Dest, o.Topic = "json:output", false, "kafka@198.74.50.131:9092", "ping_data"
			})},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got  %#v\nwant %#v\ninner %#v", req, want, req.(*RunClient).Inner)
	}
}

func TestRunClient(t *testing.T) {
	get := &Get{What: "processes", Where: map[string]string{}}
	sel := func(pos int) *SQL {
		return &SQL{DBMS: "d", Options: defaultSQLOptions(), Query: "select 1", QueryPos: pos}
	}
	cases := []okCase{
		{`run client () sql d "select 1"`, &RunClient{Command: `sql d "select 1"`, Inner: sel(7)}},
		{`run client (subset = true and timeout = 30) sql d "select 1"`, &RunClient{Subset: true, Timeout: 30 * time.Second, Command: `sql d "select 1"`, Inner: sel(7)}},
		{`run client (n1, 127.0.0.1:32048 and subset = true) get processes`, &RunClient{Dests: []string{"n1", "127.0.0.1:32048"}, Subset: true, Command: "get processes", Inner: get}},
		{`run client (n1,n2 n3) get processes`, &RunClient{Dests: []string{"n1", "n2", "n3"}, Command: "get processes", Inner: get}},
		{`run client (!dest) get processes`, &RunClient{Dests: []string{"10.0.0.2:32048"}, Command: "get processes", Inner: get}},
		{`run client (n1 and timeout = 2 minutes and subset = false) get processes`, &RunClient{Dests: []string{"n1"}, Timeout: 2 * time.Minute, Command: "get processes", Inner: get}},
		{`run client 10.0.0.1:32048 get processes`, &RunClient{Dests: []string{"10.0.0.1:32048"}, Command: "get processes", Inner: get}},
		{`run client !dest get processes`, &RunClient{Dests: []string{"10.0.0.2:32048"}, Command: "get processes", Inner: get}},
		{`run client (n1) get tables where dbms = !db`, &RunClient{Dests: []string{"n1"}, Command: "get tables where dbms = lsl_demo",
			Inner: &Get{What: "tables", Where: map[string]string{"dbms": "lsl_demo"}}}},
		{`run client (n1) sql !db "select '!db'"`, &RunClient{Dests: []string{"n1"}, Command: `sql lsl_demo "select '!db'"`,
			Inner: &SQL{DBMS: "lsl_demo", Options: defaultSQLOptions(), Query: "select '!db'", QueryPos: 14}}},
		{`run client (n1) run client (n2) exit kafka`, &RunClient{Dests: []string{"n1"}, Command: "run client (n2) exit kafka",
			Inner: &RunClient{Dests: []string{"n2"}, Command: "exit kafka", Inner: &ExitKafka{}}}},
	}
	for _, c := range cases {
		got, err := Parse(c.line, testVars)
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\n got %#v\nwant %#v", c.line, got, c.want)
		}
	}
}

var sqlErrorCases = []errCase{
	{`sql d format = xml "select 1"`, statusWrongValue, "The value 'xml' is not allowed for the key 'format'", "xml"},
	{`sql d Format = XML "select 1"`, statusWrongValue, "The value 'XML' is not allowed for the key 'format'", "XML"},
	{`sql d stat = maybe "select 1"`, statusWrongValue, "The value 'maybe' is not allowed for the key 'stat'", "maybe"},
	{`sql d dest = dbms "select 1"`, statusWrongValue, "The value 'dbms' is not allowed for the key 'dest'", "dbms \""},
	{`sql d dest = kafka@nohost and topic = t "select 1"`, statusWrongValue, "The value 'kafka@nohost' is not allowed for the key 'dest'", "kafka@"},
	{`sql d dest = kafka@h:1 "select 1"`, statusStructure, "dest = kafka@HOST:PORT needs topic = NAME", ""},
	{`sql d dest = kafka@h:1 and topic = t and compression = brotli "select 1"`, statusWrongValue, "The value 'brotli' is not allowed for the key 'compression' (none, gzip, snappy, lz4 or zstd)", "brotli"},
	{`sql d compression = gzip "select 1"`, statusStructure, "compression and key work with dest = kafka@HOST:PORT only", ""},
	{`sql d dest = file and file = f and key = a "select 1"`, statusStructure, "compression and key work with dest = kafka@HOST:PORT only", ""},
	{`sql d dest = kafka@h:1 and topic = t and key = "" "select 1"`, statusWrongValue, "The value '' is not allowed for the key 'key'", `""`},
	{`sql d dest = file "select 1"`, statusStructure, "dest = file needs file = NAME (a file under the node's --files-dir)", ""},
	{`sql d max_time = forever "select 1"`, statusWrongValue, "The value 'forever' is not allowed for the key 'max_time'", "forever"},
	{`sql d include = (t2) "select 1"`, statusUnsupported, "the sql option include", "include"},
	{`sql d extend = (@ip) "select 1"`, statusUnsupported, "the sql option extend", "extend"},
	{`sql d table = summary "select 1"`, statusUnsupported, "the sql option table", "table"},
	{`sql d colour = red "select 1"`, statusStructure, "Unknown key in AnyLog command: colour", "colour"},
	{`sql d format = json and format = table "select 1"`, statusStructure, "Duplicate key in AnyLog command: format", "format = table"},
	{`sql d format = (json) "select 1"`, statusWrongValue, "The key 'format' takes a value, not a list", "(json"},
	{`sql d format = table`, statusStructure, "missing the SQL statement (it starts with SELECT)", ""},
	{`sql d`, statusStructure, sqlUsage, ""},
	{`sql select 1`, statusStructure, sqlUsage, ""},
	{`sql d "select 1" limit 2`, statusStructure, "unexpected text after the quoted statement", "limit"},
	{`sql d ""`, statusStructure, "empty SQL statement", `""`},
	{`sql d format table "select 1"`, statusStructure, "expected `format = value`", "format"},

	{`run client () get processes`, statusStructure, "run client () needs explicit destinations for non-sql commands", "get"},
	{`run client (subset = true) exit kafka`, statusStructure, "run client () needs explicit destinations for non-sql commands", "exit"},
	{`run client node2 get processes`, statusStructure, "destinations go in parentheses, as in run client (node1, 10.0.0.2:32048) COMMAND; without them only one host:port", "node2"},
	{`run client sql d "select 1"`, statusStructure, "", "sql"},
	{`run client (n1) frobnicate`, statusUnsupported, "frobnicate", "frobnicate"},
	{`run client (n1) sql d format = xml "select 1"`, statusWrongValue, "The value 'xml' is not allowed for the key 'format'", "xml"},
	{`run client (n1) get tables where dbms = !loop`, statusStructure, "unknown variable !nope (assign it with `nope = value`) (in the command with its variables replaced: get tables where dbms = !nope)", ""},
	{`run client (n1) get tables where dbms = !nope`, statusStructure, "unknown variable !nope (assign it with `nope = value`)", "!nope"},
	{`run client (n1)`, statusStructure, "", ""},
	{`run client (n1) # nothing`, statusStructure, "run client needs a command after the destinations", "#"},
	{`run client (n1 get processes`, statusStructure, "unbalanced parenthesis in the destinations", "("},
	{`run client (n1 and n2) get processes`, statusStructure, "`and` joins options (subset = true and timeout = 10); separate destinations with commas", "and"},
	{`run client (subset = maybe) sql d "select 1"`, statusWrongValue, "The value 'maybe' is not allowed for the key 'subset'", "maybe"},
	{`run client (timeout = never) sql d "select 1"`, statusWrongValue, "The value 'never' is not allowed for the key 'timeout'", "never"},
	{`run client (retries = 2) sql d "select 1"`, statusStructure, "Unknown key in AnyLog command: retries", "retries"},
	{`run client (dbms = d and table = t) sql d "select 1"`, statusUnsupported, "run client (dbms = .. and table = ..): use () to reach every node hosting the table", "dbms"},
	{`run client (blockchain get operator bring.ip_port) sql d "select 1"`, statusUnsupported, "destinations from metadata queries; list node names or host:port, or use () for every node hosting the table", "blockchain"},
	{`run client ((operator, query) where [country] contains US) sql d "select 1"`, statusStructure, "", ""},
	{`run client ("n1") get processes`, statusStructure, `unexpected "\"n1\"" in the destinations`, `"n1"`},
	{`run client (subset = true and) sql d "select 1"`, statusStructure, "a key must follow `and`", ""},
}

func TestSQLErrors(t *testing.T) {
	for _, c := range sqlErrorCases {
		checkErr(t, c, testVars)
	}
}
