package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// kafkaPython is the kafka-python release the client test installs: pure
// Python, the 2.x line that speaks Kafka 4's protocol versions; no optional
// codec packages (python-snappy, lz4, zstandard) are installed with it.
const kafkaPython = "kafka-python==2.3.3"

// pythonWithKafka returns the python of a virtual environment with
// kafka-python installed.
func pythonWithKafka(t *testing.T) string {
	t.Helper()
	return pythonWith(t, kafkaPython)
}

// pythonWith returns the python of a virtual environment with pkgs
// installed, made in a temporary directory of the test (pip's own cache
// makes later runs quick). It fails the test, saying why, when Python 3
// with venv is missing or pip cannot install the packages.
func pythonWith(t *testing.T, pkgs ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not on PATH: the client test needs Python 3 with venv (see the README's prerequisites)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-m", "venv", dir).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv failed (on Debian install python3-venv): %v\n%s", err, out)
	}
	pip := filepath.Join(dir, "bin", "pip")
	args := append([]string{"install", "--disable-pip-version-check", "-q"}, pkgs...)
	if out, err := exec.CommandContext(ctx, pip, args...).CombinedOutput(); err != nil {
		t.Fatalf("pip could not install %s into a venv (the test needs the Python package index, or pip configured for a mirror of it): %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return filepath.Join(dir, "bin", "python")
}

type pyMessage struct {
	Partition int32
	Offset    int64
	Key       *string
	Value     string
}

// readWithPython reads every message of topic with kafka-python at the given
// isolation level. It returns the messages, or the error kafka-python
// reported.
func readWithPython(t *testing.T, py, broker, topic, isolation string) ([]pyMessage, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "read_export.py"), broker, topic, isolation, "60")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("read_export.py %s: %v\n%s%s", topic, err, out, stderr)
	}
	var res struct {
		Messages []pyMessage
		Error    string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("read_export.py %s printed %q: %v", topic, out, err)
	}
	return res.Messages, res.Error
}

// checkRows checks that every message is one JSON row with a seq, and
// returns the seqs in message order.
func checkRows(t *testing.T, topic string, msgs []pyMessage) []int64 {
	t.Helper()
	var seqs []int64
	for _, m := range msgs {
		var row map[string]any
		if err := json.Unmarshal([]byte(m.Value), &row); err != nil {
			t.Fatalf("%s/%d@%d: not one JSON object: %q: %v", topic, m.Partition, m.Offset, m.Value, err)
		}
		seq, ok := row["seq"].(float64)
		if !ok {
			t.Fatalf("%s/%d@%d: not a row: %q", topic, m.Partition, m.Offset, m.Value)
		}
		seqs = append(seqs, int64(seq))
	}
	return seqs
}

// TestExportReadByKafkaPython: a stock Python client (kafka-python without
// optional packages) reads a plain export, a keyed one and a since = last
// export (read_committed), one JSON row per message; the target topics do
// not exist beforehand and are created, as a stock producer's are. An idle
// since = last run writes nothing. A snappy export is what that client
// cannot read, which is why it is not the default.
func TestExportReadByKafkaPython(t *testing.T) {
	py := pythonWithKafka(t)
	b := kafkatest.Shared(t)
	in := "py_in"
	kafkatest.CreateTopic(t, b, in, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = %s and dbms = py and table = pings and column.timestamp.timestamp = "bring [timestamp]" and column.device.str = "bring [device_name]" and column.seq.int = "bring [seq]")`, host, port, in)
	n := startNode(t, "pyclient", t.TempDir(), consumer)
	now := time.Now()
	produce := func(from, count int) {
		var vals [][]byte
		for i := from; i < from+count; i++ {
			vals = append(vals, pingMessage(i, now))
		}
		kafkatest.Produce(t, b, in, vals...)
	}
	produce(0, 300)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("py", "pings") == 300 }, "300 rows")
	export := func(topic, opts string) reply {
		return n.exec(fmt.Sprintf(`sql py format = json:output and stat = false and dest = kafka@%s and topic = %s%s "select device, seq from pings order by seq"`, b.Addr(), topic, opts))
	}
	mustRows := func(r reply, want int) {
		t.Helper()
		if r.Status != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`"Rows" : %d}`, want)) {
			t.Fatalf("export: %d %s (want %d rows)", r.Status, r.Body, want)
		}
	}

	// A plain export with the default compression, keyed by device, to a
	// topic that does not exist yet.
	mustRows(export("py_keyed", " and key = device"), 300)
	msgs, perr := readWithPython(t, py, b.Addr(), "py_keyed", "read_uncommitted")
	if perr != "" {
		t.Fatalf("kafka-python reading the default export: %s", perr)
	}
	seqs := checkRows(t, "py_keyed", msgs)
	if len(seqs) != 300 {
		t.Fatalf("kafka-python read %d rows of py_keyed, want 300", len(seqs))
	}
	partOf, last, parts := map[string]int32{}, map[string]int64{}, map[int32]bool{}
	for i, m := range msgs {
		if m.Key == nil || !strings.HasPrefix(*m.Key, "device-") || !strings.Contains(m.Value, `"device": "`+*m.Key+`"`) {
			t.Fatalf("py_keyed message %q has key %v", m.Value, m.Key)
		}
		k := *m.Key
		if p, ok := partOf[k]; ok && p != m.Partition {
			t.Fatalf("key %s in partitions %d and %d", k, p, m.Partition)
		}
		if l, ok := last[k]; ok && seqs[i] < l {
			t.Fatalf("key %s: seq %d after %d in its partition", k, seqs[i], l)
		}
		partOf[k], last[k], parts[m.Partition] = m.Partition, seqs[i], true
	}
	if len(partOf) != 100 || len(parts) < 2 {
		t.Fatalf("%d keys over %d partitions, want 100 keys over several", len(partOf), len(parts))
	}

	// Without a key, gzip (readable without optional packages): no keys,
	// the rows spread over the partitions.
	mustRows(export("py_plain", " and compression = gzip"), 300)
	msgs, perr = readWithPython(t, py, b.Addr(), "py_plain", "read_uncommitted")
	if perr != "" {
		t.Fatalf("kafka-python reading a gzip export: %s", perr)
	}
	parts = map[int32]bool{}
	for _, m := range msgs {
		if m.Key != nil {
			t.Fatalf("py_plain message with key %q", *m.Key)
		}
		parts[m.Partition] = true
	}
	if got := len(checkRows(t, "py_plain", msgs)); got != 300 || len(parts) < 2 {
		t.Fatalf("py_plain: %d rows over %d partitions", got, len(parts))
	}

	// since = last: the first run sends every row, an idle run nothing,
	// the next the new rows.
	since := " and since = last"
	mustRows(export("py_since", since), 300)
	mustRows(export("py_since", since), 0)
	mustRows(export("py_since", since), 0)
	produce(300, 100)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("py", "pings") == 400 }, "400 rows")
	mustRows(export("py_since", since), 100)
	msgs, perr = readWithPython(t, py, b.Addr(), "py_since", "read_committed")
	if perr != "" {
		t.Fatalf("kafka-python reading a since = last export: %s", perr)
	}
	seen := map[int64]int{}
	for _, s := range checkRows(t, "py_since", msgs) {
		seen[s]++
	}
	for i := range int64(400) {
		if seen[i] != 1 {
			t.Fatalf("py_since: row %d read %d times by kafka-python", i, seen[i])
		}
	}
	if len(msgs) != 400 || len(committedValues(t, b, "py_since")) != 400 {
		t.Fatalf("py_since: %d messages, want 400 rows and nothing else", len(msgs))
	}

	// What the default avoids: snappy needs python-snappy in kafka-python.
	mustRows(n.exec(fmt.Sprintf(`sql py format = json:output and stat = false and dest = kafka@%s and topic = py_snappy and compression = snappy "select device, seq from pings"`, b.Addr())), 400)
	if _, perr = readWithPython(t, py, b.Addr(), "py_snappy", "read_uncommitted"); !strings.Contains(perr, "UnsupportedCodecError") {
		t.Fatalf("kafka-python without python-snappy reading snappy: error %q, want UnsupportedCodecError", perr)
	}
	n.stop()
}

// TestExportTopicRefused: a broker that does not allow auto-creation
// refuses a missing target topic, and the export's error says so, for a
// plain and a since = last export.
func TestExportTopicRefused(t *testing.T) {
	closed := kafkatest.StartKfakeNoAutoCreate(t)
	b := kafkatest.Shared(t)
	kafkatest.CreateTopic(t, b, "refused_in", 1)
	kafkatest.Produce(t, b, "refused_in", pingMessage(0, time.Now()))
	host, port, _ := net.SplitHostPort(b.Addr())
	n := startNode(t, "refused", t.TempDir(), fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = refused_in and dbms = d and table = t and column.seq.int = "bring [seq]")`, host, port))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("d", "t") == 1 }, "the row")
	for _, opts := range []string{"", " and since = last"} {
		r := n.exec(fmt.Sprintf(`sql d format = json:output and stat = false and dest = kafka@%s and topic = not_there%s "select seq from t"`, closed.Addr(), opts))
		want := "topic not_there does not exist on " + closed.Addr() + " and the broker refused to create it"
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, want) {
			t.Fatalf("export%s to a broker without auto-creation: %d %s\nwant %q", opts, r.Status, r.Body, want)
		}
	}
	// Once the topic is created, the same exports go through.
	kafkatest.CreateTopic(t, closed, "not_there", 2)
	for _, opts := range []string{"", " and since = last"} {
		r := n.exec(fmt.Sprintf(`sql d format = json:output and stat = false and dest = kafka@%s and topic = not_there%s "select seq from t"`, closed.Addr(), opts))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `"Rows" : 1}`) {
			t.Fatalf("export%s to the created topic: %d %s", opts, r.Status, r.Body)
		}
	}
	n.stop()
}
