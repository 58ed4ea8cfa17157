package command

import (
	"fmt"
	"strings"
)

// CommandHelp describes one command for `help`.
type CommandHelp struct {
	Name    string
	Usage   string
	Example string
	Summary string
}

var commands = []CommandHelp{
	{"run kafka consumer", `run kafka consumer where ip = IP and port = PORT [and reset = latest|earliest] [and threads = N] [and group = NAME] [and tls = true and tls_ca = FILE and tls_cert = FILE and tls_key = FILE and tls_skip_verify = true] [and sasl = plain|scram-sha-256|scram-sha-512 and user = NAME and password = SECRET|$LAKENODE_NAME] and topic = (name = TOPIC and dbms = DBMS and table = TABLE and column.NAME.TYPE = "bring [path]" [and errors = skip|table|fail|dlq:TOPIC]) [and topic = (...)]`,
		`<run kafka consumer where ip = 127.0.0.1 and port = 9092 and reset = earliest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")>`,
		"consume Kafka topics into tables, exactly once; TYPE is str, int, float or timestamp; also column.NAME = (type = .. and value = .. and optional = true); TLS files are read from --secrets-dir, $LAKENODE_NAME values from the node's environment, and the password is shown as ***"},
	{"exit kafka", "exit kafka", "exit kafka", "stop every Kafka consumer: batches flushed, offsets stored, group left"},
	{"sql", `sql DBMS [format = json|json:output|json:list|table|csv and stat = true|false and timezone = utc|local|ZONE and max_time = N seconds and dest = stdout|file|kafka@HOST:PORT and file = NAME (under --files-dir) and topic = TOPIC and since = last and compression = none|gzip|snappy|lz4|zstd and key = COLUMN and tls = true and tls_ca = FILE and tls_cert = FILE and tls_key = FILE and sasl = plain|scram-sha-256|scram-sha-512 and user = NAME and password = SECRET|$LAKENODE_NAME] "SELECT ..."`,
		`sql litsanleandro format = table "select device_name, count(*) from ping_sensor group by device_name"`, "query the node's tables; json:output replies stream as rows come, the others stop at the node's --max-result-rows (add limit); a statement is at most 64 KiB, expressions nest at most 128 deep, and max_time stops it in any stage"},
	{"run client", `run client (DESTINATIONS [and subset = true and timeout = N]) COMMAND`, `run client () sql lsl_demo format = json:output and stat = false and dest = kafka@127.0.0.1:9092 and topic = ping_out "select timestamp, value from ping_sensor where timestamp > now() - 1 day"`,
		"run a command on other nodes of the cluster and merge the replies; () reaches every node hosting the table (sql only), or list names and host:port"},
	{"get processes", "get processes [where format = json]", "get processes", "the node's services and jobs"},
	{"get msg client", "get msg client [where id = N and broker = IP:PORT and topic = T and detailed = true and statistics = true and format = json]", "get msg client where detailed = true", "Kafka subscriptions: counters, mapping, per-partition offsets, lag and latency"},
	{"get msg brokers", "get msg brokers", "get msg brokers", "messages per broker and topic"},
	{"get streaming", "get streaming [config] [where format = json]", "get streaming", "rows streamed into each table and what is buffered"},
	{"get operator", "get operator [summary|config|json|sql|inserts|error] [where format = json]", "get operator summary", "ingest statistics per table"},
	{"get databases", "get databases", "get databases", "the databases with tables on this node"},
	{"get tables", "get tables where dbms = NAME|*", "get tables where dbms = *", "tables with rows, size on disk and time range"},
	{"get columns", "get columns where dbms = NAME and table = NAME", "get columns where dbms = lsl_demo and table = ping_sensor", "a table's columns and types"},
	{"get rows count", "get rows count [where dbms = NAME [and table = NAME]] [and format = json]", "get rows count where dbms = lsl_demo", "rows per table"},
	{"get error log", "get error log", "get error log", "the latest errors of every kind"},
	{"get version", "get version", "get version", "the lakenode version"},
	{"get nodes", "get nodes [where format = json]", "get nodes", "this node and the live nodes of its cluster, with their tables"},
	{"get queries", "get queries [where format = json]", "get queries", "the queries running on this node, its shares of other nodes' run client () queries included: id, command, the node that asked, elapsed time and rows scanned so far"},
	{"cancel query", "cancel query ID", "cancel query 3", "stop a running query (an id of get queries), with its shares on the other nodes"},
	{"drop table", "drop table NAME where dbms = DBMS", "drop table ping_sensor where dbms = lsl_demo", "delete a table and its rows"},
	{"set retention", "set retention where dbms = DBMS and table = TABLE and keep = N days", "set retention where dbms = lsl_demo and table = ping_sensor and keep = 30 days", "delete rows older than N (by the table's time column); keep = 0 keeps them forever"},
	{"backup", "backup where dir = NAME", "backup where dir = before-upgrade", "write a consistent copy of the node's tables and offsets to NAME under --backup-dir, while ingest runs; start a node on the copy to restore it"},
	{"reset offsets", "reset offsets where topic = TOPIC [and group = NAME] and to = earliest|latest|OFFSET [and ip = IP and port = PORT and tls/sasl keys]", "reset offsets where topic = ping_data and to = earliest",
		"with the topic's consumer stopped, move every partition of TOPIC to its log start, its end or OFFSET: the node's stored positions and the group's committed offsets; a table skips what it already holds"},
	{"run scheduler", "run scheduler [ID]", "run scheduler 1", "start a scheduler (default 1) that runs scheduled tasks"},
	{"schedule", `schedule time = N seconds|minutes|hours|days and name = "NAME" [and start = DATE|now()|"start of day"|+N unit] [and scheduler = ID] task COMMAND`,
		`schedule time = 5 minutes and name = "export" task sql lsl_demo "select count(*) from ping_sensor where timestamp >= TIME(PREVIOUS) and timestamp < TIME(CURRENT)"`,
		"run a command every N; TIME(PREVIOUS) and TIME(CURRENT) become the previous and current run times"},
	{"get scheduler", "get scheduler [ID]", "get scheduler", "the scheduled tasks, their next run and last result"},
	{"task", `task stop|resume|remove|run|init where [scheduler = ID and] name = "NAME" [and start = DATE|+N unit]`, `task run where name = "export"`, "control a scheduled task"},
	{"exit scheduler", "exit scheduler [ID]", "exit scheduler 1", "stop a scheduler (all without an id)"},
	{"connect dbms", "connect dbms NAME where type = sqlite|psql|mongo ...", "connect dbms lsl_demo where type = sqlite", "declare a database (lakenode stores every table in its data dir)"},
	{"flush buffers", "flush buffers", "flush buffers", "commit buffered rows now"},
	{"set buffer threshold", "set buffer threshold where [dbms = NAME and table = NAME and] [time = N seconds|minutes|hours] [and volume = N|NKB|NMB|NGB] [and write_immediate = true|false]", "set buffer threshold where time = 2 seconds and volume = 10KB", "how long rows may wait before they are committed (default: at once)"},
	{"variables", "NAME = VALUE", "broker_ip = 127.0.0.1", "the node dictionary: !NAME in any later command is replaced by VALUE"},
	{"help", "help [COMMAND]", "help run kafka consumer", "this list, or one command"},
	{"exit", "exit | quit | Ctrl-D", "exit", "leave the shell"},
}

// ignoredHelp describes the EdgeLake commands that succeed with a notice.
func ignoredHelp() []CommandHelp {
	out := make([]CommandHelp, 0, len(ignoredCommands))
	for _, ig := range ignoredCommands {
		out = append(out, CommandHelp{Name: ig.prefix, Usage: ig.prefix + " ...", Example: ig.prefix, Summary: "accepted and ignored: " + ig.why})
	}
	return out
}

// Commands lists every command, the ones lakenode ignores last.
func Commands() []CommandHelp {
	return append(append([]CommandHelp(nil), commands...), ignoredHelp()...)
}

// Help renders `help` or `help TOPIC`.
func Help(topic string) (string, error) {
	topic = strings.ToLower(strings.TrimSpace(topic))
	var b strings.Builder
	if topic == "" {
		b.WriteString("Commands (help COMMAND for details and an example):\n")
		w := 0
		for _, c := range commands {
			w = max(w, len(c.Name))
		}
		for _, c := range commands {
			fmt.Fprintf(&b, "  %-*s  %s\n", w, c.Name, c.Summary)
		}
		var ig []string
		for _, c := range ignoredHelp() {
			ig = append(ig, c.Name)
		}
		fmt.Fprintf(&b, "\nEdgeLake commands with no meaning here succeed with a notice: %s.\n", strings.Join(ig, ", "))
		return b.String(), nil
	}
	var matches []CommandHelp
	for _, c := range Commands() {
		if c.Name == topic || strings.HasPrefix(c.Name, topic) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return "", &Error{Detail: fmt.Sprintf("no help for %q: `help` lists the commands", Redact(topic)), Pos: -1}
	}
	for i, c := range matches {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s — %s\nUsage:   %s\nExample: %s\n", c.Name, c.Summary, c.Usage, c.Example)
	}
	return b.String(), nil
}

// isCompletionWord reports whether w is a lower-case keyword (not a
// placeholder such as NAME, not punctuation).
func isCompletionWord(w string) bool {
	if w == "" || w == "..." {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return w[0] >= 'a' && w[0] <= 'z'
}
