package command

import (
	"fmt"
	"sort"
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
	{"run kafka consumer", `run kafka consumer where ip = IP and port = PORT [and reset = latest|earliest] [and threads = N] [and group = NAME] and topic = (name = TOPIC and dbms = DBMS and table = TABLE and column.NAME.TYPE = "bring [path]" [and errors = skip|table|fail|dlq:TOPIC]) [and topic = (...)]`,
		`<run kafka consumer where ip = 127.0.0.1 and port = 9092 and reset = earliest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")>`,
		"consume Kafka topics into tables, exactly once; TYPE is str, int, float or timestamp; also column.NAME = (type = .. and value = .. and optional = true)"},
	{"exit kafka", "exit kafka", "exit kafka", "stop every Kafka consumer: batches flushed, offsets stored, group left"},
	{"sql", `sql DBMS [format = json|json:output|json:list|table and stat = true|false and timezone = utc|local|ZONE and max_time = N seconds and dest = stdout|file and file = PATH] "SELECT ..."`,
		`sql lsl_demo format = table "select device_name, count(*) from ping_sensor group by device_name"`, "query the node's tables"},
	{"run client", `run client (DESTINATIONS) COMMAND`, `run client () sql lsl_demo "select count(*) from ping_sensor"`, "run a command on other nodes of the cluster and merge the replies"},
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
	{"drop table", "drop table NAME where dbms = DBMS", "drop table ping_sensor where dbms = lsl_demo", "delete a table and its rows"},
	{"set retention", "set retention where dbms = DBMS and table = TABLE and keep = N days", "set retention where dbms = lsl_demo and table = ping_sensor and keep = 30 days", "delete rows older than N (by the table's time column); keep = 0 keeps them forever"},
	{"run scheduler", "run scheduler [ID]", "run scheduler 1", "start a scheduler (default 1) that runs scheduled tasks"},
	{"schedule", `schedule time = N seconds|minutes|hours|days and name = "NAME" [and scheduler = ID] task COMMAND`,
		`schedule time = 5 minutes and name = "export" task sql lsl_demo "select count(*) from ping_sensor where timestamp >= TIME(PREVIOUS) and timestamp < TIME(CURRENT)"`,
		"run a command every N; TIME(PREVIOUS) and TIME(CURRENT) become the previous and current run times"},
	{"get scheduler", "get scheduler [ID]", "get scheduler", "the scheduled tasks, their next run and last result"},
	{"task", `task stop|resume|remove|run where [scheduler = ID and] name = "NAME"`, `task run where name = "export"`, "control a scheduled task"},
	{"exit scheduler", "exit scheduler [ID]", "exit scheduler 1", "stop a scheduler (all without an id)"},
	{"connect dbms", "connect dbms NAME where type = sqlite|psql ...", "connect dbms lsl_demo where type = sqlite", "declare a database (lakenode stores every table in its data dir)"},
	{"flush buffers", "flush buffers", "flush buffers", "commit buffered rows now"},
	{"set buffer threshold", "set buffer threshold where [dbms = NAME and table = NAME and] time = N seconds and volume = N KB", "set buffer threshold where time = 2 seconds and volume = 10KB", "how long rows may wait before they are committed (default: at once)"},
	{"variables", "NAME = VALUE, then !NAME in any command", "broker_ip = 127.0.0.1", "the node dictionary"},
	{"help", "help [COMMAND]", "help run kafka consumer", "this list, or one command"},
	{"exit", "exit | quit | Ctrl-D", "exit", "leave the shell"},
}

// Commands lists every command.
func Commands() []CommandHelp { return commands }

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
		b.WriteString("\nEdgeLake start-up commands with no meaning here (run streamer, run operator, run tcp server, ...) succeed with a notice.\n")
		return b.String(), nil
	}
	var matches []CommandHelp
	for _, c := range commands {
		if c.Name == topic || strings.HasPrefix(c.Name, topic) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return "", fmt.Errorf("no help for %q: `help` lists the commands", topic)
	}
	for i, c := range matches {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s — %s\nUsage:   %s\nExample: %s\n", c.Name, c.Summary, c.Usage, c.Example)
	}
	return b.String(), nil
}

// Words returns the command words and keywords, for tab completion.
func Words() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range commands {
		for _, w := range strings.Fields(c.Usage) {
			w = strings.Trim(w, "[]()|,\"")
			if i := strings.IndexAny(w, "=|"); i >= 0 {
				w = w[:i]
			}
			if w == "" || strings.ToUpper(w) == w || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
