package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// seedConsumer is the seed's consumer command with the broker's address and
// a topic of the test's own.
func seedConsumer(addr, topic, reset string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`<run kafka consumer where ip = %s and port = %s and reset = %s and topic = (
name = %s and
dbms = lsl_demo and
table = ping_sensor and
column.timestamp.timestamp = "bring [timestamp]" and
column.value.int = "bring [value]"
)>`, host, port, reset, topic)
}

func pingMessage(i int, ts time.Time) []byte {
	return []byte(fmt.Sprintf(`{"device_name":"device-%04d","timestamp":"%s","value":%d,"seq":%d}`, i%100, ts.UTC().Format(time.RFC3339Nano), i%1000, i))
}

func parseCount(body, dbms, table string) int64 {
	var rows []struct {
		DBMS  string `json:"dbms"`
		Table string `json:"table"`
		Rows  int64  `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		return -1
	}
	for _, r := range rows {
		if r.DBMS == dbms && r.Table == table {
			return r.Rows
		}
	}
	return 0
}

// TestSeedConsumer runs the seed's consumer command as written (reset =
// latest, a `< >` block in a start-up script) and checks that messages
// produced after it joined arrive as typed rows.
func TestSeedConsumer(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "ping_data_" + t.Name()
	kafkatest.CreateTopic(t, b, topic, 4)
	n := startNode(t, "seed", t.TempDir(), seedConsumer(b.Addr(), topic, "latest"))
	// reset = latest: wait until the consumer owns its partitions.
	waitFor(t, 60*time.Second, func() bool {
		return strings.Contains(n.mustExec("get msg client where detailed = true"), topic)
	}, "the consumer to subscribe")
	waitFor(t, 60*time.Second, func() bool {
		body := n.mustExec("get msg client where format = json")
		return strings.Count(body, `"partition"`) >= 4 && !strings.Contains(body, `"stored_offset": -1`)
	}, "the consumer to own its 4 partitions")
	const total = 500
	now := time.Now()
	var vals [][]byte
	for i := range total {
		vals = append(vals, pingMessage(i, now))
	}
	kafkatest.Produce(t, b, topic, vals...)
	waitFor(t, 30*time.Second, func() bool { return n.rowCount("lsl_demo", "ping_sensor") == total }, "%d rows", total)
	// The watermarks come from the fetch responses: a stored offset is
	// never above its partition's high watermark.
	var subs []struct {
		Partitions []struct {
			Partition     int   `json:"partition"`
			StoredOffset  int64 `json:"stored_offset"`
			HighWatermark int64 `json:"high_watermark"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(n.mustExec("get msg client where format = json")), &subs); err != nil || len(subs) != 1 {
		t.Fatalf("get msg client as JSON: %v (%d subscriptions)", err, len(subs))
	}
	for _, p := range subs[0].Partitions {
		if p.StoredOffset > p.HighWatermark {
			t.Errorf("partition %d: stored offset %d above the high watermark %d", p.Partition, p.StoredOffset, p.HighWatermark)
		}
	}

	cols := n.mustExec("get columns where dbms = lsl_demo and table = ping_sensor")
	for _, want := range []string{"row_id", "insert_timestamp", "tsd_name", "tsd_id", "timestamp", "value"} {
		if !strings.Contains(cols, want) {
			t.Errorf("get columns lacks %s:\n%s", want, cols)
		}
	}
	if got := n.mustExec("get processes"); !strings.Contains(got, "Kafka Consumer") || !strings.Contains(got, "Running") {
		t.Errorf("get processes:\n%s", got)
	}
	n.stop()
}

// TestExactlyOnceAcrossKill9 kills the node at random moments during ingest
// (5 times), restarts it on the same data dir with the same command, and
// checks that every produced message is stored exactly once, also with a
// `now` column.
func TestExactlyOnceAcrossKill9(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "eos_" + t.Name()
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	script := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = %s and dbms = eos and table = events and column.ingested.timestamp = now and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]" and column.device.str = "bring [device_name]")`, host, port, topic)
	dir := filepath.Join(t.TempDir(), "data")
	n := startNode(t, "eos", dir, script)
	// Five rounds: produce a slice of the messages and, once the node is
	// ingesting it, kill it at a random moment (the delay picks the moment;
	// nothing waits on it), then restart it on the same data dir with the
	// same command.
	const rounds, perRound = 5, 40_000
	const total = rounds * perRound
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	now := time.Now()
	for k := range rounds {
		vals := make([][]byte, 0, perRound)
		for j := k * perRound; j < (k+1)*perRound; j++ {
			vals = append(vals, pingMessage(j, now))
		}
		produced := make(chan error, 1)
		go func() { produced <- kafkatest.ProduceValues(b, topic, vals...) }()
		base := int64(k * perRound / 2)
		waitFor(t, 60*time.Second, func() bool { return n.rowCount("eos", "events") > base }, "ingest to run before kill %d", k+1)
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		n.kill()
		if err := <-produced; err != nil {
			t.Fatal(err)
		}
		t.Logf("kill %d done; %d messages produced so far", k+1, (k+1)*perRound)
		n.restart()
		t.Logf("after restart %d: %d rows", k+1, n.rowCount("eos", "events"))
	}
	waitFor(t, 120*time.Second, func() bool { return n.rowCount("eos", "events") >= total }, "all %d rows", total)
	if got := n.rowCount("eos", "events"); got != total {
		t.Fatalf("rows = %d, want exactly %d", got, total)
	}
	n.stop()

	// Read the store directly: every seq exactly once.
	s := tablestest.OpenDir(t, dir)
	rows := tablestest.Dump(t, s, "eos", "events")
	seen := make([]int, total)
	tbl, _ := s.Table("eos", "events")
	seqCol := tbl.ColumnIndex("seq")
	for _, r := range rows {
		seq := r[seqCol].I
		if seq < 0 || seq >= total {
			t.Fatalf("unexpected seq %d", seq)
		}
		seen[seq]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d stored %d times", i, c)
		}
	}
}

// TestRESTPort checks EdgeLake's REST command port: status codes, content
// types and notices.
func TestRESTPort(t *testing.T) {
	n := startNode(t, "rest", t.TempDir(), "")
	r := n.exec("get processes where format = json")
	if r.Status != http.StatusOK || r.Type != "application/json" {
		t.Fatalf("get processes json: %d %s %s", r.Status, r.Type, r.Body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.Body)
	}
	r = n.exec("get processes")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Type, "text/plain") {
		t.Fatalf("get processes: %d %s", r.Status, r.Type)
	}
	r = n.exec("run kafka consumer where ip = 127.0.0.1 and port = 9 and prep_dir = x and topic = (name = a and dbms = b and table = c and column.v.int = \"bring [v]\")")
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "prep_dir") {
		t.Fatalf("unknown key: %d %s", r.Status, r.Body)
	}
	r = n.exec("run streamer")
	if r.Status != http.StatusOK || len(r.Notices) == 0 {
		t.Fatalf("run streamer: %d notices %v", r.Status, r.Notices)
	}
	r = n.exec("frobnicate the widgets")
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "not supported by lakenode") {
		t.Fatalf("unknown command: %d %s", r.Status, r.Body)
	}
	n.stop()
}

// TestTopicCreatedAfterConsumer: the consumer starts before its topic
// exists; messages produced when the topic appears all arrive.
func TestTopicCreatedAfterConsumer(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "late_topic"
	n := startNode(t, "late", t.TempDir(), seedConsumer(b.Addr(), topic, "earliest"))
	now := time.Now()
	var vals [][]byte
	for i := range 300 {
		vals = append(vals, pingMessage(i, now))
	}
	kafkatest.CreateTopic(t, b, topic, 4)
	kafkatest.Produce(t, b, topic, vals...)
	waitFor(t, 90*time.Second, func() bool { return n.rowCount("lsl_demo", "ping_sensor") == 300 }, "all 300 rows")
	n.stop()
}
