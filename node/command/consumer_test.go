package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// The seed's consumer command, one line (reference §1.1) and as the
// multi-line block of the seed page.
const seedOneLine = `run kafka consumer where ip = 198.74.50.131 and port = 9092 and reset = latest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

const seedBlock = `<run kafka consumer where ip = 198.74.50.131 and port = 9092 and reset = latest and topic = (
name = ping_data and
dbms = lsl_demo and
table = ping_sensor and
column.timestamp.timestamp = "bring [timestamp]" and
column.value.int = "bring [value]"
)>`

// The seed's producer command.
const seedProducer = `run client () sql litsanleandro format = json:output and stat = false and dest = kafka@198.74.50.131:9092 and topic = ping_data "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`

func key(k string) spec.PathStep { return spec.PathStep{Key: k} }
func idx(n int) spec.PathStep    { return spec.PathStep{Index: n, IsIndex: true} }

var each = spec.PathStep{Each: true}

// path is a bring word with one key path.
func path(steps ...spec.PathStep) spec.BringPart {
	return spec.BringPart{Paths: [][]spec.PathStep{steps}}
}

// alts is a bring word with OR alternatives.
func alts(paths ...[]spec.PathStep) spec.BringPart { return spec.BringPart{Paths: paths} }

func steps(s ...spec.PathStep) []spec.PathStep { return s }

func litPart(s string) spec.BringPart { return spec.BringPart{Literal: s} }

func bringX(text string, parts ...spec.BringPart) spec.Expr {
	return spec.Expr{Kind: spec.ExprBring, Text: text, Parts: parts}
}

func litX(lit, text string) spec.Expr {
	return spec.Expr{Kind: spec.ExprLiteral, Literal: lit, Text: text}
}

func nowX(text string) spec.Expr { return spec.Expr{Kind: spec.ExprNow, Text: text} }

func seedSpec() spec.ConsumerSpec {
	return spec.ConsumerSpec{IP: "198.74.50.131", Port: "9092", Reset: "latest", Threads: 3, Topics: []spec.TopicSpec{{
		Name:  "ping_data",
		DBMS:  litX("lsl_demo", "lsl_demo"),
		Table: litX("ping_sensor", "ping_sensor"),
		Columns: []spec.ColumnSpec{
			{Name: "timestamp", Type: schema.TypeTimestamp, Value: bringX("bring [timestamp]", path(key("timestamp")))},
			{Name: "value", Type: schema.TypeInt, Value: bringX("bring [value]", path(key("value")))},
		},
	}}}
}

func parseConsumerSpec(t *testing.T, line string, vars map[string]string) spec.ConsumerSpec {
	t.Helper()
	req, err := Parse(line, vars)
	if err != nil {
		t.Fatalf("%s\n%v", line, err)
	}
	r, ok := req.(*RunKafkaConsumer)
	if !ok {
		t.Fatalf("%s: got %T", line, req)
	}
	return r.Spec
}

func TestSeedConsumer(t *testing.T) {
	for name, line := range map[string]string{
		"one line":        seedOneLine,
		"block":           seedBlock,
		"block, one line": strings.ReplaceAll(seedBlock, "\n", " "),
		"block, CRLF":     strings.ReplaceAll(seedBlock, "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			if got, want := parseConsumerSpec(t, line, nil), seedSpec(); !reflect.DeepEqual(got, want) {
				t.Errorf("spec\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestSeedConsumerFromScript(t *testing.T) {
	cmds, err := SplitScript(strings.NewReader("# the seed\n" + seedBlock + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 || cmds[0].Line != 2 {
		t.Fatalf("commands %+v", cmds)
	}
	if got := parseConsumerSpec(t, cmds[0].Text, nil); !reflect.DeepEqual(got, seedSpec()) {
		t.Errorf("spec %+v", got)
	}
}

// consumerBase starts a valid consumer command; consumerTopic is a valid
// topic.
const (
	consumerBase  = `run kafka consumer where ip = 127.0.0.1 and port = 9092 and `
	consumerTopic = `topic = (name = t and dbms = d and table = x and column.v.int = "bring [v]")`
)

func topicLine(inner string) string { return consumerBase + `topic = (` + inner + `)` }

var consumerTopicCases = []struct {
	name  string
	inner string // inside topic = ( ... )
	want  spec.TopicSpec
}{
	{"short forms", `name = t and dbms = d and table = x and column.ts.timestamp = now and column.site.str = "plant 7" and column.n.float = 'bring [a][b]'`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "ts", Type: schema.TypeTimestamp, Value: nowX("now")},
			{Name: "site", Type: schema.TypeString, Value: litX("plant 7", "plant 7")},
			{Name: "n", Type: schema.TypeFloat, Value: bringX("bring [a][b]", path(key("a"), key("b")))},
		}}},
	{"keys in any case", `NAME = t and DBMS = D and Table = X and Column.Value.INT = "bring [v]" and QoS = 1`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "D"), Table: litX("x", "X"), Columns: []spec.ColumnSpec{
			{Name: "value", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
	{"no blanks around =", `name=t and dbms=d and table=x and column.v.int="bring [v]"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
	{"brought dbms and table, literal between keys", `name = t and dbms = "bring [meta][company]" and table = "bring [metadata][machine_name] _ [metadata][serial_number]" and column.v.int = "bring [v]"`,
		spec.TopicSpec{Name: "t",
			DBMS:  bringX("bring [meta][company]", path(key("meta"), key("company"))),
			Table: bringX("bring [metadata][machine_name] _ [metadata][serial_number]", path(key("metadata"), key("machine_name")), litPart("_"), path(key("metadata"), key("serial_number"))),
			Columns: []spec.ColumnSpec{
				{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
			}}},
	{"literal names are normalised", `name = t and dbms = D-B and table = "My Table.v2" and column.v.int = "bring [v]"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d_b", "D-B"), Table: litX("my_table_v2", "My Table.v2"), Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
	{"unquoted literal of several words", `name = t and dbms = My Co and table = x and column.site.str = plant   7`,
		spec.TopicSpec{Name: "t", DBMS: litX("my_co", "My Co"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "site", Type: schema.TypeString, Value: litX("plant 7", "plant 7")},
		}}},
	{"long form", `name = t and dbms = d and table = x and column.v = (type = float64 and value = "bring [readings][][value]" and optional = true) and column.w = (value = "bring [w]" and type = "char(8)" and optional = false)`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeFloat, Optional: true, Value: bringX("bring [readings][][value]", path(key("readings"), each, key("value")))},
			{Name: "w", Type: schema.TypeString, Value: bringX("bring [w]", path(key("w")))},
		}}},
	{"long form, type brought from the message", `name = t and dbms = d and table = x and column.v = (type = "bring [readings][][valueType]" and value = "bring [readings][][value]")`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "v", TypeExpr: &spec.Expr{Kind: spec.ExprBring, Text: "bring [readings][][valueType]", Parts: []spec.BringPart{path(key("readings"), each, key("valueType"))}},
				Value: bringX("bring [readings][][value]", path(key("readings"), each, key("value")))},
		}}},
	{"OR in double quotes, single quotes and unquoted", `name = t and dbms = d and table = x and column.a.str = "bring [a][b]:[a][c]" and column.b.str = 'bring [a]:[b]' and column.c.str = bring [x]:[y][0]`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "a", Type: schema.TypeString, Value: bringX("bring [a][b]:[a][c]", alts(steps(key("a"), key("b")), steps(key("a"), key("c"))))},
			{Name: "b", Type: schema.TypeString, Value: bringX("bring [a]:[b]", alts(steps(key("a")), steps(key("b"))))},
			{Name: "c", Type: schema.TypeString, Value: bringX("bring [x]:[y][0]", alts(steps(key("x")), steps(key("y"), idx(0))))},
		}}},
	{"quoted keys, index, quoted literal", `name = t and dbms = d and table = x and column.k.str = "bring [list][0]['key with space']" and column.l.str = 'bring [a] " : " [b]' and column.m.str = bring ["k 2"][3] - [c]`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "k", Type: schema.TypeString, Value: bringX("bring [list][0]['key with space']", path(key("list"), idx(0), key("key with space")))},
			{Name: "l", Type: schema.TypeString, Value: bringX(`bring [a] " : " [b]`, path(key("a")), litPart(" : "), path(key("b")))},
			{Name: "m", Type: schema.TypeString, Value: bringX(`bring ["k 2"][3] - [c]`, path(key("k 2"), idx(3)), litPart("-"), path(key("c")))},
		}}},
	{"bring.json and now()", `name = t and dbms = d and table = x and column.j.str = "bring.json [payload]" and column.at.timestamp = "now()"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "j", Type: schema.TypeString, Value: bringX("bring.json [payload]", path(key("payload")))},
			{Name: "at", Type: schema.TypeTimestamp, Value: nowX("now()")},
		}}},
	{"parentheses inside a value", `name = t and dbms = d and table = x and column.at.timestamp = now() and column.c = (type = char(8) and value = f(x) y)`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "at", Type: schema.TypeTimestamp, Value: nowX("now()")},
			{Name: "c", Type: schema.TypeString, Value: litX("f(x) y", "f(x) y")},
		}}},
	{"a lone bring is a literal", `name = t and dbms = d and table = x and column.b.str = "bring"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Columns: []spec.ColumnSpec{
			{Name: "b", Type: schema.TypeString, Value: litX("bring", "bring")},
		}}},
	{"error policies", `name = t and dbms = d and table = x and errors = dlq:bad_rows and column.v.int = "bring [v]"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Errors: spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: "bad_rows"}, Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
	{"errors = skip", `name = t and dbms = d and table = x and errors = SKIP and column.v.int = "bring [v]"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Errors: spec.ErrorPolicy{Kind: spec.ErrorsSkip}, Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
	{"errors = fail", `name = t and dbms = d and table = x and errors = fail and column.v.int = "bring [v]"`,
		spec.TopicSpec{Name: "t", DBMS: litX("d", "d"), Table: litX("x", "x"), Errors: spec.ErrorPolicy{Kind: spec.ErrorsFail}, Columns: []spec.ColumnSpec{
			{Name: "v", Type: schema.TypeInt, Value: bringX("bring [v]", path(key("v")))},
		}}},
}

func TestConsumerTopics(t *testing.T) {
	for _, c := range consumerTopicCases {
		t.Run(c.name, func(t *testing.T) {
			s := parseConsumerSpec(t, topicLine(c.inner), nil)
			if len(s.Topics) != 1 {
				t.Fatalf("topics %+v", s.Topics)
			}
			if !reflect.DeepEqual(s.Topics[0], c.want) {
				t.Errorf("topic\n got %+v\nwant %+v", s.Topics[0], c.want)
			}
		})
	}
}

func TestConsumerOptions(t *testing.T) {
	vars := map[string]string{"broker": "10.0.0.1", "kafka_port": "9093"}
	cases := []struct {
		line string
		want spec.ConsumerSpec // Topics not compared
	}{
		{consumerBase + consumerTopic, spec.ConsumerSpec{IP: "127.0.0.1", Port: "9092", Reset: "latest", Threads: 3}},
		{`run kafka consumer where ip = !broker and Port = !kafka_port and reset = EARLIEST and threads = 2 and group = g1 and ` + consumerTopic,
			spec.ConsumerSpec{IP: "10.0.0.1", Port: "9093", Reset: "earliest", Threads: 2, Group: "g1"}},
		{`RUN Kafka CONSUMER WHERE IP=h.example and PORT=1 and ` + consumerTopic, spec.ConsumerSpec{IP: "h.example", Port: "1", Reset: "latest", Threads: 3}},
		{`<run kafka consumer where ip = 127.0.0.1 and port = 9092 and ` + consumerTopic + `>`, spec.ConsumerSpec{IP: "127.0.0.1", Port: "9092", Reset: "latest", Threads: 3}},
	}
	for _, c := range cases {
		s := parseConsumerSpec(t, c.line, vars)
		s.Topics = nil
		if !reflect.DeepEqual(s, c.want) {
			t.Errorf("%s\n got %+v\nwant %+v", c.line, s, c.want)
		}
	}
	// An instruction from a variable.
	s := parseConsumerSpec(t, topicLine(`name = t and dbms = d and table = !tbl and column.v.str = !instr`), map[string]string{"tbl": "bring [m] _ [n]", "instr": `bring [a] ' : ' [b]`})
	if want := bringX("bring [m] _ [n]", path(key("m")), litPart("_"), path(key("n"))); !reflect.DeepEqual(s.Topics[0].Table, want) {
		t.Errorf("table from a variable: %+v", s.Topics[0].Table)
	}
	if want := bringX("bring [a] ' : ' [b]", path(key("a")), litPart(" : "), path(key("b"))); !reflect.DeepEqual(s.Topics[0].Columns[0].Value, want) {
		t.Errorf("column from a variable: %+v", s.Topics[0].Columns[0].Value)
	}
	line := topicLine(`name = t and dbms = d and table = x and column.v.str = !instr`)
	checkErr(t, errCase{line, statusMQTT, "column.v.str = bring [a: missing ] after [", "!instr"}, map[string]string{"instr": "bring [a"})
	// Several topics keep their order.
	s = parseConsumerSpec(t, consumerBase+consumerTopic+` and topic = (name = t2 and dbms = d and table = y and column.v.int = "bring [v]")`, nil)
	if len(s.Topics) != 2 || s.Topics[0].Name != "t" || s.Topics[1].Name != "t2" || s.Topics[1].Table.Literal != "y" {
		t.Errorf("topics %+v", s.Topics)
	}
}

// errCase is a line Parse must refuse with exactly this status and detail
// (detail "" means any); pos is the offset of at in the line when set.
type errCase struct {
	line, status, detail, at string
}

var consumerErrorCases = []errCase{
	{consumerBase + `prep_dir = x and ` + consumerTopic, statusStructure, "Unknown key in AnyLog command: prep_dir", "prep_dir"},
	{consumerBase + `user = u and ` + consumerTopic, statusStructure, "user and password need sasl = plain|scram-sha-256|scram-sha-512", "user"},
	{consumerBase + `reset = oldest and ` + consumerTopic, statusWrongValue, "The value 'oldest' is not allowed for the key 'reset'", "oldest"},
	{topicLine(`name = t and dbms = d and table = x and column.v.double = "bring [v]"`), statusMQTT, "Wrong column type in MQTT mapping: column.v.double", "column.v.double"},
	{topicLine(`name = t and dbms = d and table = x and column.v.bool = "bring [v]"`), statusMQTT, "Wrong column type in MQTT mapping: column.v.bool", "column.v.bool"},
	{topicLine(`name = t and dbms = d and table = x`), statusMQTT, "Missing mapping instructions for message in topic: t", "(name"},
	{topicLine(`name = t and table = x and column.v.int = "bring [v]"`), statusMQTT, "Missing mapping instruction for DBMS", "(name"},
	{topicLine(`name = t and dbms = d and column.v.int = "bring [v]"`), statusMQTT, "Missing mapping instructions for table", "(name"},
	{topicLine(`dbms = d and table = x and column.v.int = "bring [v]"`), statusMQTT, "Missing topic name", "(dbms"},
	{topicLine(`name = t and dbms = d and table = x and colour = red and column.v.int = "bring [v]"`), statusMQTT, "Unrecognized topic component for MQTT mapping: 'colour'", "colour"},
	{consumerBase + consumerTopic + ` and topic = (name = t and dbms = e and table = y and column.w.int = "bring [w]")`, statusMQTT, "MQTT Error: The Topic 't' is declared twice in this command", "topic = (name = t and dbms = e"},
	{`run kafka consumer where ip = 127.0.0.1 and ` + consumerTopic, statusStructure, "Missing key in AnyLog command: port", ""},
	{`run kafka consumer where port = 9092 and ` + consumerTopic, statusStructure, "Missing key in AnyLog command: ip", ""},
	{`run kafka consumer where ip = 127.0.0.1 and port = 9092`, statusStructure, "Missing key in AnyLog command: topic", ""},
	{`run kafka consumer ip = 1 and port = 2 and ` + consumerTopic, statusStructure, consumerUsage, "ip"},
	{`run kafka consumer where ip`, statusStructure, consumerUsage, ""},
	{consumerBase + `port = 9093 and ` + consumerTopic, statusStructure, "Duplicate key in AnyLog command: port", "port = 9093"},
	{consumerBase + `port2 = 9093 and ` + consumerTopic, statusStructure, "Unknown key in AnyLog command: port2", "port2"},
	{consumerBase + `threads = 0 and ` + consumerTopic, statusWrongValue, "The value '0' is not allowed for the key 'threads' (1 to 64)", "0 and"},
	{`run kafka consumer where ip = h and port = http and ` + consumerTopic, statusWrongValue, "The value 'http' is not allowed for the key 'port' (a port number)", "http"},
	{`run kafka consumer where ip = (h = 1) and port = 1 and ` + consumerTopic, statusWrongValue, "The key 'ip' takes a value, not a list", "(h"},
	{consumerBase + `topic = tx99`, statusStructure, "", "tx99"},
	{consumerBase + `topic = ()`, statusMQTT, "Missing topic name", "()"},
	{topicLine(`name = t and dbms = d and table = x and errors = maybe and column.v.int = "bring [v]"`), statusWrongValue, "The value 'maybe' is not allowed for the key 'errors' (skip, table, fail or dlq:TOPIC)", "maybe"},
	{topicLine(`name = t and dbms = d and table = x and errors = dlq: and column.v.int = "bring [v]"`), statusWrongValue, "The value 'dlq:' is not allowed for the key 'errors' (skip, table, fail or dlq:TOPIC)", "dlq:"},
	{topicLine(`name = t and dbms = d and table = x and qos = 3 and column.v.int = "bring [v]"`), statusWrongValue, "The value '3' is not allowed for the key 'qos' (0, 1 or 2)", "3 and"},
	{topicLine(`name = t and policy = p1`), statusUnsupported, "policy = ... in a topic (mapping policies, raw persistence and dynamic tables); declare dbms, table and column.NAME.TYPE instead", "policy"},
	{topicLine(`name = t and dbms = d and table = x and persist = true`), statusUnsupported, "", "persist"},
	{topicLine(`name = t and dbms = d and table = x and dynamic = true`), statusUnsupported, "", "dynamic"},
	{topicLine(`name = t and name = u and dbms = d and table = x and column.v.int = "bring [v]"`), statusStructure, "Duplicate key in AnyLog command: name", "name = u"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring [v]" and column.V.str = "bring [w]"`), statusMQTT, "column v is declared twice in topic t", "column.V"},
	{topicLine(`name = t and dbms = now and table = x and column.v.int = "bring [v]"`), statusMQTT, "dbms cannot be now", "now"},
	{topicLine(`name = t and dbms = "" and table = x and column.v.int = "bring [v]"`), statusMQTT, "empty dbms name", `""`},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring [v"`), statusMQTT, "column.v.int = bring [v: missing ] after [", "[v\""},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = bring [a][b`), statusMQTT, "column.v.int = bring [a][b: missing ] after [", "[b"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring [a]]"`), statusMQTT, "column.v.int = bring [a]]: a ] without its [", "]\""},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring ['a]"`), statusMQTT, "column.v.int = bring ['a]: unterminated ' in a quoted key", "'a]"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring ['a'b]"`), statusMQTT, "column.v.int = bring ['a'b]: a quoted key must be followed by ], as in ['key']", "['a'b]"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring [*]"`), statusMQTT, "column.v.int = bring [*]: [*] selects a policy type and has no meaning in a message mapping", "[*]"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring [a] 'b"`), statusMQTT, "column.v.int = bring [a] 'b: unterminated ' literal", "'b"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = "bring.first [v]"`), statusMQTT, "column.v.int = bring.first [v]: bring.first: only plain bring (or bring.json) maps a message; the other bring modifiers query policies", "bring.first"},
	{topicLine(`name = t and dbms = d and table = "bring [m] [n" and column.v.int = "bring [v]"`), statusMQTT, "table = bring [m] [n: missing ] after [", "[n"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (type = int)`), statusMQTT, "column v needs both type = .. and value = ..", "column.v"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (type = money and value = "bring [v]")`), statusMQTT, "Data type 'money' not supported", "money"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (type = int and value = "bring [v]" and optional = maybe)`), statusWrongValue, "The value 'maybe' is not allowed for the key 'optional' (true or false)", "maybe"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (type = int and value = "bring [v]" and default = 0)`), statusMQTT, "Unrecognized column component for MQTT mapping: 'default' (type, value, optional)", "default"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (type = int and type = str and value = "bring [v]")`), statusStructure, "Duplicate key in AnyLog command: type", "type = str"},
	{topicLine(`name = t and dbms = d and table = x and column.v.int = (type = int and value = "bring [v]")`), statusMQTT, "", "(type"},
	{topicLine(`name = t and dbms = d and table = x and column..int = "bring [v]"`), statusMQTT, "Missing column name in MQTT mapping: column..int", "column..int"},
	{topicLine(`name = t and dbms = d and table = x and column.v = "bring [v]"`), statusMQTT, "", "column.v"},
	{consumerBase + `ip2 = !nope and ` + consumerTopic, statusStructure, "unknown variable !nope (assign it with `nope = value`)", "!nope"},
	{consumerBase + `topic = (name = t and dbms = d and table = x and column.v.int = "bring [v])`, statusStructure, `unterminated " string`, `"bring [v])`},
	{consumerBase + `topic = (name = t and dbms = d`, statusStructure, "", "("},
	{topicLine(`name = t and dbms = d and table = x and column.v.str = "bring [a]" "x"`), statusMQTT, `column.v.str = "bring [a]" "x": write the instruction as one quoted string`, `"bring [a]" "x"`},
	{consumerBase + `topic = (ping_data)`, statusStructure, "topic takes a list in parentheses: topic = (name = .. and dbms = .. and table = .. and column.NAME.TYPE = \"bring [..]\")", "(ping_data)"},
	{topicLine(`name = t and dbms = d and table = x and column.v = (int)`), statusMQTT, "column.v takes (type = .. and value = .. [and optional = true|false])", "(int)"},
	{`run kafka consumer where ip = (h) and port = 1 and ` + consumerTopic, statusWrongValue, "The key 'ip' takes a value, not a list", "(h)"},
	{topicLine(`name = t and dbms = d and table = x(y and column.v.int = "bring [v]"`), statusStructure, `unbalanced parenthesis in the value of "topic"`, "(name"},
	{topicLine(`name = t and dbms = d and table = x) and column.v.int = "bring [v]"`), statusStructure, `unexpected ")" in the value of "column.v.int"`, ""},
	{`run kafka consumer where ip = 127.0.0.1 and port = 9092 and group = g(1 and ` + consumerTopic, statusStructure, `unbalanced parenthesis in the value of "group"`, "g(1"},
	{`<run kafka consumer where ip = 1`, statusStructure, "the block has no closing >", "<"},
	{consumerBase + `and ` + consumerTopic, statusWrongValue, "The value '9092 and' is not allowed for the key 'port' (a port number)", "9092"},
}

// checkErr runs one errCase.
func checkErr(t *testing.T, c errCase, vars map[string]string) {
	t.Helper()
	req, err := Parse(c.line, vars)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Errorf("%s\n err = %v (%T), request %#v; want *Error", c.line, err, err, req)
		return
	}
	if ce.Status != c.status || (c.detail != "" && ce.Detail != c.detail) {
		t.Errorf("%s\n got  %q / %q\n want %q / %q", c.line, ce.Status, ce.Detail, c.status, c.detail)
	}
	if c.at != "" {
		if want := strings.Index(ce.Line, c.at); ce.Pos != want {
			t.Errorf("%s\n %s: pos %d, want %d (at %q)\n%s", c.line, ce.Error(), ce.Pos, want, c.at, ce.Caret())
		}
	}
}

func TestConsumerErrors(t *testing.T) {
	for _, c := range consumerErrorCases {
		checkErr(t, c, nil)
	}
}

func TestInstructions(t *testing.T) {
	cases := []struct {
		in   string
		want spec.Expr
	}{
		{"now", nowX("now")},
		{"NOW", nowX("NOW")},
		{"now()", nowX("now()")},
		{"plant 7", litX("plant 7", "plant 7")},
		{"", litX("", "")},
		{"bring", litX("bring", "bring")},
		{"bringing", litX("bringing", "bringing")},
		{"bring.json", litX("bring.json", "bring.json")},
		{"bring  ", litX("bring  ", "bring  ")},
		{"bring [a]", bringX("bring [a]", path(key("a")))},
		{"Bring [a]", bringX("Bring [a]", path(key("a")))},
		{"bring[a]", bringX("bring[a]", path(key("a")))},
		{"bring.json [a][b]", bringX("bring.json [a][b]", path(key("a"), key("b")))},
		{"bring [a][]", bringX("bring [a][]", path(key("a"), each))},
		{"bring [a][2][b]", bringX("bring [a][2][b]", path(key("a"), idx(2), key("b")))},
		{"bring [a][-1]", bringX("bring [a][-1]", path(key("a"), key("-1")))},
		{"bring [a][+1]", bringX("bring [a][+1]", path(key("a"), key("+1")))},
		{`bring ["a b"]['c']`, bringX(`bring ["a b"]['c']`, path(key("a b"), key("c")))},
		{`bring ["it's"]`, bringX(`bring ["it's"]`, path(key("it's")))},
		{"bring [metadata][machine_name] _ [metadata][serial_number]", bringX("bring [metadata][machine_name] _ [metadata][serial_number]",
			path(key("metadata"), key("machine_name")), litPart("_"), path(key("metadata"), key("serial_number")))},
		{"bring [a]_[b]", bringX("bring [a]_[b]", path(key("a")), litPart("_"), path(key("b")))},
		{"bring x[a]y", bringX("bring x[a]y", litPart("x"), path(key("a")), litPart("y"))},
		{`bring [a] ' : ' [b]`, bringX(`bring [a] ' : ' [b]`, path(key("a")), litPart(" : "), path(key("b")))},
		{`bring [a] O'Brien`, bringX(`bring [a] O'Brien`, path(key("a")), litPart("O'Brien"))},
		{"bring [a][b]:[a][c]:[d]", bringX("bring [a][b]:[a][c]:[d]", alts(steps(key("a"), key("b")), steps(key("a"), key("c")), steps(key("d"))))},
		{"bring [a]:x", bringX("bring [a]:x", path(key("a")), litPart(":x"))},
		{"bring [a] : [b]", bringX("bring [a] : [b]", path(key("a")), litPart(":"), path(key("b")))},
	}
	for _, c := range cases {
		got, err := parseInstruction(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	bad := []struct {
		in, msg string
		off     int
	}{
		{"bring [a", "missing ] after [", 6},
		{"  bring [a][b", "missing ] after [", 11},
		{"bring ]", "a ] without its [", 6},
		{"bring [[a]]", "missing ] after [", 6},
		{"bring.table [a]", "bring.table: only plain bring (or bring.json) maps a message; the other bring modifiers query policies", 0},
		{`bring [a] "x`, `unterminated " literal`, 10},
	}
	for _, c := range bad {
		_, err := parseInstruction(c.in)
		var ie *instrError
		if !errors.As(err, &ie) || ie.Msg != c.msg || ie.Off != c.off {
			t.Errorf("%q: got %#v, want %q at %d", c.in, err, c.msg, c.off)
		}
	}
}
