package command

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

const seedOneLine = `run kafka consumer where ip = 198.74.50.131 and port = 9092 and reset = latest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

const seedBlock = `<run kafka consumer where ip = 198.74.50.131 and port = 9092 and reset = latest and topic = (
name = ping_data and
dbms = lsl_demo and
table = ping_sensor and
column.timestamp.timestamp = "bring [timestamp]" and
column.value.int = "bring [value]"
)>`

const seedProducer = `run client () sql litsanleandro format = json:output and stat = false and dest = kafka@198.74.50.131:9092 and topic = ping_data "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`

func seedSpec() spec.ConsumerSpec {
	return spec.ConsumerSpec{IP: "198.74.50.131", Port: "9092", Reset: "latest", Threads: 3, Topics: []spec.TopicSpec{{
		Name:  "ping_data",
		DBMS:  spec.Expr{Kind: spec.ExprLiteral, Literal: "lsl_demo", Text: "lsl_demo"},
		Table: spec.Expr{Kind: spec.ExprLiteral, Literal: "ping_sensor", Text: "ping_sensor"},
		Columns: []spec.ColumnSpec{
			{Name: "timestamp", Type: schema.TypeTimestamp, Value: spec.Expr{Kind: spec.ExprBring, Text: "bring [timestamp]", Parts: []spec.BringPart{{Paths: [][]spec.PathStep{{{Key: "timestamp"}}}}}}},
			{Name: "value", Type: schema.TypeInt, Value: spec.Expr{Kind: spec.ExprBring, Text: "bring [value]", Parts: []spec.BringPart{{Paths: [][]spec.PathStep{{{Key: "value"}}}}}}},
		},
	}}}
}

func specString(s spec.ConsumerSpec) string {
	var b strings.Builder
	b.WriteString(s.IP + ":" + s.Port + " " + s.Reset + " " + s.Group)
	for _, t := range s.Topics {
		b.WriteString(" | " + t.Name + " " + t.DBMS.Literal + t.DBMS.Text + " " + t.Table.Literal + t.Table.Text + " " + t.Errors.String())
		for _, c := range t.Columns {
			b.WriteString(" ; " + c.Name + ":" + c.Type.String() + "=" + c.Value.Text)
			for _, p := range c.Value.Parts {
				b.WriteString(" <" + p.Literal)
				for _, path := range p.Paths {
					for _, st := range path {
						if st.Each {
							b.WriteString("[]")
						} else if st.IsIndex {
							b.WriteString("#")
						} else {
							b.WriteString("[" + st.Key + "]")
						}
					}
					b.WriteString("|")
				}
				b.WriteString(">")
			}
			if c.Optional {
				b.WriteString(" optional")
			}
		}
	}
	return b.String()
}

func TestSeedConsumerParses(t *testing.T) {
	want := specString(seedSpec())
	for _, line := range []string{seedOneLine, seedBlock, strings.ReplaceAll(seedBlock, "\n", " ")} {
		req, err := Parse(line, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		r, ok := req.(*RunKafkaConsumer)
		if !ok {
			t.Fatalf("got %T", req)
		}
		if got := specString(r.Spec); got != want {
			t.Errorf("spec\n got %s\nwant %s", got, want)
		}
	}
}

func TestSeedProducerParses(t *testing.T) {
	req, err := Parse(seedProducer, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc, ok := req.(*RunClient)
	if !ok || len(rc.Dests) != 0 {
		t.Fatalf("got %#v", req)
	}
	q, ok := rc.Inner.(*SQL)
	if !ok {
		t.Fatalf("inner %T", rc.Inner)
	}
	if q.DBMS != "litsanleandro" || q.Options.Format != "json:output" || q.Options.Stat || q.Options.Dest != "kafka@198.74.50.131:9092" || q.Options.Topic != "ping_data" {
		t.Errorf("options %+v", q.Options)
	}
	if !strings.HasPrefix(q.Query, "select device_name, timestamp, value, from") || !strings.HasSuffix(q.Query, "limit 10") {
		t.Errorf("query %q", q.Query)
	}
}

func TestConsumerErrors(t *testing.T) {
	base := `run kafka consumer where ip = 127.0.0.1 and port = 9092 and `
	topic := `topic = (name = t and dbms = d and table = x and column.v.int = "bring [v]")`
	cases := []struct {
		line, status, detail string
	}{
		{base + `prep_dir = x and ` + topic, "Error Command Structure", "Unknown key in AnyLog command: prep_dir"},
		{base + `reset = oldest and ` + topic, "Wrong value assigned to a key", "The value 'oldest' is not allowed for the key 'reset'"},
		{base + `topic = (name = t and dbms = d and table = x and column.v.double = "bring [v]")`, "Error with info provided to MQTT", "Wrong column type in MQTT mapping: column.v.double"},
		{base + `topic = (name = t and dbms = d and table = x)`, "Error with info provided to MQTT", "Missing mapping instructions for message in topic: t"},
		{base + `topic = (name = t and table = x and column.v.int = "bring [v]")`, "Error with info provided to MQTT", "Missing mapping instruction for DBMS"},
		{base + `topic = (name = t and dbms = d and column.v.int = "bring [v]")`, "Error with info provided to MQTT", "Missing mapping instructions for table"},
		{base + `topic = (dbms = d and table = x and column.v.int = "bring [v]")`, "Error with info provided to MQTT", "Missing topic name"},
		{base + `topic = (name = t and dbms = d and table = x and colour = red and column.v.int = "bring [v]")`, "Error with info provided to MQTT", "Unrecognized topic component for MQTT mapping: 'colour"},
		{base + topic + ` and ` + topic, "Error with info provided to MQTT", "declared twice"},
		{`run kafka consumer where ip = 127.0.0.1 and ` + topic, "Error Command Structure", "Missing key in AnyLog command: port"},
		{`run kafka consumer ip = 1`, "Error Command Structure", "usage"},
		{base + `port = 9093 and ` + topic, "Error Command Structure", "Duplicate key"},
		{base + `topic = (name = t and dbms = d and table = x and errors = maybe and column.v.int = "bring [v]")`, "Wrong value assigned to a key", "'errors'"},
		{base + `topic = (name = t and dbms = d and table = x and policy = p1)`, "not supported by lakenode", "policy"},
		{base + `topic = (name = t and dbms = d and table = x and column.v.int = "bring [v")`, "Error with info provided to MQTT", "missing ]"},
		{base + `topic = (name = t and dbms = d and table = x and column.v = (type = int))`, "Error with info provided to MQTT", "needs both"},
		{base + `topic = (name = t and dbms = d and table = x and column.v = (type = money and value = "bring [v]"))`, "Error with info provided to MQTT", "Data type 'money' not supported"},
		{base + `threads = 0 and ` + topic, "Wrong value assigned to a key", "threads"},
	}
	for _, c := range cases {
		_, err := Parse(c.line, nil)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want *Error", c.line, err)
			continue
		}
		if ce.Status != c.status || !strings.Contains(ce.Detail, c.detail) {
			t.Errorf("%s:\n got %q / %q\nwant %q / ...%q...", c.line, ce.Status, ce.Detail, c.status, c.detail)
		}
	}
}

func TestConsumerOptionsAndForms(t *testing.T) {
	line := `run kafka consumer where ip = !broker and Port = 9092 and reset = EARLIEST and threads = 2 and group = g1 and topic = (name = t1 and dbms = "bring [meta][company]" and table = "bring [meta][machine] _ [meta][sn]" and errors = dlq:bad and qos = 1 and column.ts.timestamp = now and column.site.str = "plant 7" and column.v = (type = float64 and value = "bring [readings][][value]" and optional = true) and column.alt.str = 'bring [a][b]:[a][c]' and column.first.str = "bring [list][0]['key with space']") and topic = (name = t2 and dbms = D-B and table = My.Table and column.x.int = "bring [x]")`
	req, err := Parse(line, map[string]string{"broker": "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := req.(*RunKafkaConsumer).Spec
	if s.IP != "10.0.0.1" || s.Reset != "earliest" || s.Threads != 2 || s.Group != "g1" || len(s.Topics) != 2 {
		t.Fatalf("spec %+v", s)
	}
	t1 := s.Topics[0]
	if t1.Errors.Kind != spec.ErrorsDLQ || t1.Errors.DLQTopic != "bad" {
		t.Errorf("errors %+v", t1.Errors)
	}
	if t1.DBMS.Kind != spec.ExprBring || len(t1.Table.Parts) != 3 || t1.Table.Parts[1].Literal != "_" {
		t.Errorf("dbms/table %+v %+v", t1.DBMS, t1.Table)
	}
	cols := t1.Columns
	if cols[0].Value.Kind != spec.ExprNow || cols[1].Value.Kind != spec.ExprLiteral || cols[1].Value.Literal != "plant 7" {
		t.Errorf("now/literal %+v %+v", cols[0], cols[1])
	}
	if cols[2].Type != schema.TypeFloat || !cols[2].Optional || !cols[2].Value.Parts[0].Paths[0][1].Each {
		t.Errorf("long form %+v", cols[2])
	}
	if len(cols[3].Value.Parts[0].Paths) != 2 {
		t.Errorf("OR form %+v", cols[3])
	}
	p := cols[4].Value.Parts[0].Paths[0]
	if !p[1].IsIndex || p[1].Index != 0 || p[2].Key != "key with space" {
		t.Errorf("index/quoted key %+v", p)
	}
	if s.Topics[1].DBMS.Literal != "d_b" || s.Topics[1].Table.Literal != "my_table" {
		t.Errorf("normalised names %q %q", s.Topics[1].DBMS.Literal, s.Topics[1].Table.Literal)
	}
}

func TestOtherCommands(t *testing.T) {
	cases := []struct {
		line  string
		check func(Request) bool
	}{
		{"get processes", func(r Request) bool { g := r.(*Get); return g.What == "processes" && !g.JSON }},
		{"get processes where format = json", func(r Request) bool { return r.(*Get).JSON }},
		{"get msg clients where id = 1 and detailed = true", func(r Request) bool {
			g := r.(*Get)
			return g.What == "msg client" && g.Where["id"] == "1" && g.Where["detailed"] == "true"
		}},
		{"get msg broker", func(r Request) bool { return r.(*Get).What == "msg brokers" }},
		{"get streaming config where format = json", func(r Request) bool { g := r.(*Get); return g.What == "streaming config" && g.JSON }},
		{"get operator summary", func(r Request) bool { g := r.(*Get); return g.What == "operator" && g.Topic == "summary" }},
		{"get tables where dbms = *", func(r Request) bool { return r.(*Get).Where["dbms"] == "*" }},
		{"get columns where dbms = d and table = t", func(r Request) bool { return r.(*Get).Where["table"] == "t" }},
		{"get rows count where dbms = d and format = json", func(r Request) bool { g := r.(*Get); return g.What == "rows count" && g.JSON }},
		{"exit kafka", func(r Request) bool { _, ok := r.(*ExitKafka); return ok }},
		{"drop table ping_sensor where dbms = lsl_demo", func(r Request) bool { d := r.(*DropTable); return d.DBMS == "lsl_demo" && d.Table == "ping_sensor" }},
		{"set retention where dbms = d and table = t and keep = 30 days", func(r Request) bool {
			s := r.(*SetRetention)
			return s.Table == "t" && s.Keep == 30*24*time.Hour
		}},
		{"flush buffers", func(r Request) bool { _, ok := r.(*FlushBuffers); return ok }},
		{"connect dbms lsl_demo where type = sqlite", func(r Request) bool { c := r.(*ConnectDBMS); return c.Name == "lsl_demo" && c.Type == "sqlite" }},
		{"set buffer threshold where time = 2 seconds and volume = 10KB", func(r Request) bool {
			s := r.(*SetBufferThreshold)
			return s.Time == 2*time.Second && s.Volume == 10240
		}},
		{"run streamer", func(r Request) bool { i, ok := r.(*Ignored); return ok && strings.Contains(i.Notice, "ignored") }},
		{"run operator where policy = !operator_policy", nil},
		{"create work directories", func(r Request) bool { _, ok := r.(*Ignored); return ok }},
		{"help run kafka consumer", func(r Request) bool { return r.(*HelpRequest).Topic == "run kafka consumer" }},
		{"broker_ip = 127.0.0.1", func(r Request) bool { v := r.(*SetVar); return v.Name == "broker_ip" && v.Value == "127.0.0.1" }},
		{`sql lsl_demo format = table "select count(*) from ping_sensor"`, func(r Request) bool {
			q := r.(*SQL)
			return q.Options.Format == "table" && q.Query == "select count(*) from ping_sensor" && q.QueryPos == 29
		}},
		{`sql lsl_demo select * from t where a = 'x'`, func(r Request) bool { return r.(*SQL).Query == "select * from t where a = 'x'" }},
		{`run client (n1, 127.0.0.1:32048 and subset = true) get processes`, func(r Request) bool {
			rc := r.(*RunClient)
			return len(rc.Dests) == 2 && rc.Subset && rc.Command == "get processes"
		}},
	}
	for _, c := range cases {
		r, err := Parse(c.line, map[string]string{"operator_policy": "p"})
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if c.check != nil && !c.check(r) {
			t.Errorf("%s: unexpected %#v", c.line, r)
		}
	}
	for _, bad := range []string{
		"frobnicate", "get nothing", "get operator banana", "get tables", "get columns where dbms = d",
		`sql d format = xml "select 1"`, "sql d", "run client () get processes", "get processes where format = yaml",
		"set buffer threshold where dbms = d", "get processes where color = red", "drop table t", "set retention where dbms = d and keep = 1 day", "!nope", `sql d dest = kafka@h:1 "select 1"`,
	} {
		if _, err := Parse(bad, nil); err == nil {
			t.Errorf("%q parsed", bad)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error %T is not *Error", bad, err)
		}
	}
}

func TestErrorCaret(t *testing.T) {
	_, err := Parse(`run kafka consumer where ip = 1 and port = 2 and prep_dir = x and topic = (name = a)`, nil)
	ce := err.(*Error)
	lines := strings.Split(ce.Caret(), "\n")
	if len(lines) != 2 || lines[0][strings.Index(lines[1], "^"):][:8] != "prep_dir" {
		t.Fatalf("caret:\n%s", ce.Caret())
	}
}

func TestSplitScript(t *testing.T) {
	script := `# a comment
connect dbms lsl_demo where type = sqlite
   # indented comment

` + seedBlock + `
get processes # not a comment here
<get msg client>
< sql d "select '>' from t"
>
`
	cmds, err := SplitScript(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		prefix string
		line   int
	}{{"connect dbms", 2}, {"run kafka consumer where", 5}, {"get processes # not", 12}, {"get msg client", 13}, {`sql d "select '>' from t"`, 14}}
	if len(cmds) != len(want) {
		t.Fatalf("got %d commands: %+v", len(cmds), cmds)
	}
	for i, w := range want {
		if !strings.HasPrefix(cmds[i].Text, w.prefix) || cmds[i].Line != w.line {
			t.Errorf("command %d: %q line %d, want %q line %d", i, cmds[i].Text, cmds[i].Line, w.prefix, w.line)
		}
	}
	if _, err := Parse(cmds[1].Text, nil); err != nil {
		t.Errorf("block: %v", err)
	}
	if _, err := SplitScript(strings.NewReader("<run kafka consumer where\nip = 1\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("unterminated block: %v", err)
	}
}

func TestHelpAndWords(t *testing.T) {
	all, err := Help("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Commands() {
		if !strings.Contains(all, c.Name) {
			t.Errorf("help lacks %s", c.Name)
		}
		// Every example parses (except the shell's own `exit`).
		if c.Name != "exit" {
			if _, err := Parse(c.Example, map[string]string{}); err != nil {
				t.Errorf("example of %s does not parse: %v", c.Name, err)
			}
		}
	}
	one, err := Help("get msg client")
	if err != nil || !strings.Contains(one, "Example:") {
		t.Errorf("help get msg client: %v\n%s", err, one)
	}
	if _, err := Help("nonsense"); err == nil {
		t.Error("help nonsense succeeded")
	}
	words := strings.Join(Words(), " ")
	for _, w := range []string{"run", "kafka", "consumer", "get", "processes", "sql"} {
		if !strings.Contains(words, w) {
			t.Errorf("Words lacks %s", w)
		}
	}
}
