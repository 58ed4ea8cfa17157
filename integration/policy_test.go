package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/tablestest"
)

func consumerCmd(addr, topic, table, extra string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = %s and dbms = pol and table = %s and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]"%s)`, host, port, topic, table, extra)
}

// mixed returns good messages with every tenth malformed in one of three
// ways: not JSON, a value that does not fit int, a missing column.
func mixed(n int) (vals [][]byte, bad int) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range n {
		var v string
		switch {
		case i%30 == 5:
			v = "not json at all"
		case i%30 == 15:
			v = fmt.Sprintf(`{"timestamp":"%s","value":%d.5}`, now, i)
		case i%30 == 25:
			v = fmt.Sprintf(`{"value":%d}`, i)
		default:
			v = fmt.Sprintf(`{"timestamp":"%s","value":%d}`, now, i)
		}
		if i%30 == 5 || i%30 == 15 || i%30 == 25 {
			bad++
		}
		vals = append(vals, []byte(v))
	}
	return vals, bad
}

type partitionJSON struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Stored    int64  `json:"stored_offset"`
	HighWater int64  `json:"high_watermark"`
	Lag       int64  `json:"lag"`
	Messages  int64  `json:"messages"`
	Rows      int64  `json:"rows"`
	Errors    int64  `json:"errors"`
	Stopped   string `json:"stopped"`
	P50       int64  `json:"p50_ms"`
	P99       int64  `json:"p99_ms"`
}

type clientJSON struct {
	ID         int             `json:"id"`
	State      string          `json:"state"`
	Detail     string          `json:"detail"`
	Messages   int64           `json:"messages"`
	Errors     int64           `json:"errors"`
	Partitions []partitionJSON `json:"partitions"`
}

func msgClients(t *testing.T, n *nodeProc) []clientJSON { return msgClientsTB(t, n) }

func msgClientsTB(t testing.TB, n *nodeProc) []clientJSON {
	t.Helper()
	var cs []clientJSON
	body := n.mustExec("get msg client where format = json")
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		t.Fatalf("get msg client json: %v\n%s", err, body)
	}
	return cs
}

func TestErrorPolicies(t *testing.T) {
	b := kafkatest.Shared(t)
	const total = 300
	vals, bad := mixed(total)
	for _, policy := range []string{"table", "skip", "dlq"} {
		t.Run(policy, func(t *testing.T) {
			topic := "pol_" + policy
			kafkatest.CreateTopic(t, b, topic, 2)
			kafkatest.Produce(t, b, topic, vals...)
			extra := ""
			switch policy {
			case "skip":
				extra = " and errors = skip"
			case "dlq":
				extra = " and errors = dlq:" + topic + "_dlq"
				kafkatest.CreateTopic(t, b, topic+"_dlq", 1)
			}
			n := startNode(t, "pol-"+policy, t.TempDir(), consumerCmd(b.Addr(), topic, topic, extra))
			waitFor(t, 60*time.Second, func() bool {
				cs := msgClients(t, n)
				return len(cs) == 1 && cs[0].Messages == total
			}, "all %d messages counted", total)
			cs := msgClients(t, n)
			if cs[0].Errors != int64(bad) {
				t.Errorf("errors = %d, want %d", cs[0].Errors, bad)
			}
			waitFor(t, 10*time.Second, func() bool { return n.rowCount("pol", topic) == int64(total-bad) }, "%d good rows", total-bad)
			switch policy {
			case "table":
				waitFor(t, 10*time.Second, func() bool { return n.rowCount(tables.ErrorsDBMS, tables.ErrorsTable) == int64(bad) }, "%d rows in the error table", bad)
			case "skip":
				if got := n.rowCount(tables.ErrorsDBMS, tables.ErrorsTable); got != 0 {
					t.Errorf("skip wrote %d error rows", got)
				}
			case "dlq":
				recs := kafkatest.ConsumeAll(t, b, topic+"_dlq", bad, 30*time.Second)
				reasons := map[string]int{}
				for _, r := range recs {
					for _, h := range r.Headers {
						if h.Key == "lakenode.reason" {
							reasons[string(h.Value)]++
						}
					}
				}
				if reasons["not_json"] != bad/3 || reasons["type_mismatch"] != bad/3 || reasons["missing_column"] != bad/3 {
					t.Errorf("dead-letter reasons %v", reasons)
				}
			}
			n.stop()
		})
	}
}

// TestFailPolicyStopsAndResumes: errors = fail stops the partition at the
// bad message; exit kafka and a new consumer with errors = skip resume
// there, and nothing is lost or doubled.
func TestFailPolicyStopsAndResumes(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "pol_fail"
	kafkatest.CreateTopic(t, b, topic, 1)
	vals, bad := mixed(90)
	kafkatest.Produce(t, b, topic, vals...)
	dir := t.TempDir()
	n := startNode(t, "pol-fail", dir, consumerCmd(b.Addr(), topic, "f", " and errors = fail"))
	waitFor(t, 60*time.Second, func() bool {
		cs := msgClients(t, n)
		return len(cs) == 1 && len(cs[0].Partitions) == 1 && cs[0].Partitions[0].Stopped != ""
	}, "the partition to stop at the first bad message")
	waitFor(t, 10*time.Second, func() bool { return n.rowCount("pol", "f") == 5 }, "the 5 rows before it")
	if !strings.Contains(n.mustExec("get error log"), "errors = fail") {
		t.Errorf("the stop is not in the error log")
	}
	if body := n.mustExec("exit kafka"); !strings.Contains(body, "1") {
		t.Errorf("exit kafka: %s", body)
	}
	n.mustExec(consumerCmd(b.Addr(), topic, "f", " and errors = skip"))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("pol", "f") == int64(90-bad) }, "every good row once")
	cs := msgClients(t, n)
	if cs[0].Messages != 85 || cs[0].Errors != int64(bad) {
		t.Errorf("resumed consumer saw %d messages, %d errors; want 85 and %d", cs[0].Messages, cs[0].Errors, bad)
	}
	n.stop()
	s := tablestest.OpenDir(t, dir)
	seen := map[int64]int{}
	tbl, _ := s.Table("pol", "f")
	vi := tbl.ColumnIndex("value")
	for _, r := range tablestest.Dump(t, s, "pol", "f") {
		seen[r[vi].I]++
	}
	for v, c := range seen {
		if c != 1 {
			t.Errorf("value %d stored %d times", v, c)
		}
	}
}

// TestBrokerOutage: the broker goes away during ingest; the consumer shows
// it, retries, and when the broker returns ingest resumes with nothing lost.
func TestBrokerOutage(t *testing.T) {
	b := kafkatest.FromEnv(t)
	if b.Kind() == "external" {
		t.Fatal("TestBrokerOutage stops its broker: run it with LAKENODE_TEST_BROKER, not LAKENODE_TEST_KAFKA")
	}
	topic := "outage"
	kafkatest.CreateTopic(t, b, topic, 2)
	vals, _ := mixed(1)
	kafkatest.Produce(t, b, topic, vals...)
	n := startNode(t, "outage", t.TempDir(), consumerCmd(b.Addr(), topic, topic, ""))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("pol", topic) == 1 }, "the first row")
	b.Stop()
	waitFor(t, 90*time.Second, func() bool {
		cs := msgClients(t, n)
		return len(cs) == 1 && cs[0].State == "retrying"
	}, "the consumer to show the broker outage")
	if p := n.mustExec("get processes"); !strings.Contains(p, "Retrying") {
		t.Errorf("get processes does not show the outage:\n%s", p)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var more [][]byte
	for i := range 200 {
		more = append(more, []byte(fmt.Sprintf(`{"timestamp":"%s","value":%d}`, now, i)))
	}
	kafkatest.Produce(t, b, topic, more...)
	waitFor(t, 120*time.Second, func() bool { return n.rowCount("pol", topic) == 201 }, "ingest to resume with all 201 rows")
	waitFor(t, 30*time.Second, func() bool { return msgClients(t, n)[0].State == "running" }, "the consumer to show it runs again")
	n.stop()
}

// TestSchemaExtendAndClash: a second consumer that declares a new column
// extends the table; a clash of types is an error for that command and
// changes nothing.
func TestSchemaExtendAndClash(t *testing.T) {
	b := kafkatest.Shared(t)
	kafkatest.CreateTopic(t, b, "schema_a", 1)
	kafkatest.CreateTopic(t, b, "schema_b", 1)
	host, port, _ := net.SplitHostPort(b.Addr())
	n := startNode(t, "schema", t.TempDir(), consumerCmd(b.Addr(), "schema_a", "s", ""))
	kafkatest.Produce(t, b, "schema_a", []byte(`{"timestamp":"2026-01-01T00:00:00Z","value":1}`))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("pol", "s") == 1 }, "the first row")
	r := n.exec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = schema_b and dbms = pol and table = s and column.value.float = "bring [value]")`, host, port))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "column value of table pol.s is int, not float") {
		t.Fatalf("clash: %d %s", r.Status, r.Body)
	}
	n.mustExec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = schema_b and dbms = pol and table = s and column.value.int = "bring [value]" and column.site.str = "bring [site]")`, host, port))
	kafkatest.Produce(t, b, "schema_b", []byte(`{"value":2,"site":"plant 7"}`))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("pol", "s") == 2 }, "the second consumer's row")
	cols := n.mustExec("get columns where dbms = pol and table = s")
	if !strings.Contains(cols, "site") || strings.Count(cols, "value") != 1 {
		t.Errorf("columns:\n%s", cols)
	}
	n.stop()
}

// TestCommandLine covers -c, -f, stdin scripts, exit codes and where
// results, errors and notices go.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "lakenode ") {
		t.Errorf("--version: %d %q %q", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, "", "--no-such-flag"); code != 2 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("bad flag: %d %q", code, errOut)
	}
	data := filepath.Join(dir, "data")
	out, errOut, code = runCLI(t, "", "--data-dir", data, "-c", "get rows count where format = json", "-c", "frobnicate", "-c", "run streamer", "-c", "get version")
	if code != 1 || out != "[]\nlakenode dev\n" && !strings.HasPrefix(out, "[]\nlakenode ") {
		t.Errorf("-c: code %d out %q", code, out)
	}
	if !strings.Contains(errOut, "not supported by lakenode: frobnicate") || !strings.Contains(errOut, "run streamer: ignored") {
		t.Errorf("-c stderr: %q", errOut)
	}
	script := filepath.Join(dir, "s.al")
	os.WriteFile(script, []byte("# start-up\nbroker = 127.0.0.1\n<get\n  version>\nget msg client\n"), 0o644)
	out, errOut, code = runCLI(t, "", "--data-dir", data, "-f", script)
	if code != 0 || !strings.Contains(out, "lakenode") || !strings.Contains(out, "No message client subscriptions") {
		t.Errorf("-f: %d %q %q", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "get version\nget processes where format = yaml\n", "--data-dir", data)
	if code != 1 || !strings.Contains(out, "lakenode") || !strings.Contains(errOut, "yaml") {
		t.Errorf("stdin: %d %q %q", code, out, errOut)
	}
	// A command with bad syntax gets a caret under the offending word.
	_, errOut, _ = runCLI(t, "", "--data-dir", data, "-c", `run kafka consumer where ip = 1 and port = 2 and prep_dir = x and topic = (name = a)`)
	if !strings.Contains(errOut, "Unknown key in AnyLog command: prep_dir") || !strings.Contains(errOut, "^") {
		t.Errorf("caret: %q", errOut)
	}
}
