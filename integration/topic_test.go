package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestTopicRecreated deletes and re-creates a topic under a running
// consumer: the partitions stop with state `topic changed` naming the
// topic, partition and offsets (never lag 0), nothing of the new topic is
// ingested silently, the log says so once and does not flood; then
// `exit kafka`, `reset offsets ... to = earliest` and the consumer again
// ingest the new topic's messages exactly once. Resets to latest and to an
// offset then behave as the README says.
func TestTopicRecreated(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "recreated_" + strings.ToLower(t.Name())
	kafkatest.CreateTopic(t, b, topic, 2)
	now := time.Now()
	// Message i goes to partition i%2, so that offsets are known. Each
	// call has its own client: a client never adopts a re-created topic.
	produce := func(from, n int) {
		pcl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		defer pcl.Close()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: pingMessage(i, now)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing to %s: %v", topic, err)
		}
	}
	const first = 400
	produce(0, first)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = g_recreated and topic = (name = %s and dbms = topicdb and table = t and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, topic)
	n := startNode(t, "recreated", t.TempDir(), "")
	n.mustExec(consumer)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("topicdb", "t") == first }, "%d rows", first)
	// Wait until the partitions' stored offsets have reached the end.
	waitFor(t, 30*time.Second, func() bool {
		return strings.Count(n.mustExec("get msg client where format = json"), `"lag": 0`) == 2
	}, "lag 0 on both partitions")

	recreate(t, b, topic, 2)
	const second = 60
	produce(10_000, second)
	ends := kafkatest.EndOffsets(t, b, topic)

	// The partitions stop, visibly, naming the offsets.
	var msg string
	waitFor(t, 60*time.Second, func() bool {
		msg = n.mustExec("get msg client")
		return strings.Count(msg, "topic changed: ") >= 2
	}, "both partitions in state topic changed")
	if !regexp.MustCompile(`stored offset \d+, high watermark \d+`).MatchString(msg) || !strings.Contains(msg, "reset offsets where topic = "+topic) {
		t.Fatalf("get msg client does not name the offsets and what to do:\n%s", msg)
	}
	procs := n.mustExec("get processes")
	if !strings.Contains(procs, "Topic changed") || !strings.Contains(procs, topic+"[") {
		t.Fatalf("get processes does not show the changed topic:\n%s", procs)
	}
	js := n.mustExec("get msg client where format = json")
	if strings.Count(js, `"topic_changed": "the `) != 2 || strings.Contains(js, `"lag": 0,`) {
		t.Fatalf("a changed partition shows lag 0 or no topic_changed:\n%s\n%s", js, n.mustExec("get msg client"))
	}

	// No flood and nothing ingested: watch the log for 5 s.
	logSize := func() int64 {
		st, err := os.Stat(n.log.Name())
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before, changedBefore := logSize(), n.logCount(changedLine)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c := n.rowCount("topicdb", "t"); c != first {
			t.Fatalf("%d rows while the topic is changed, want %d: something was ingested silently", c, first)
		}
		time.Sleep(200 * time.Millisecond)
	}
	grown := logSize() - before
	if grown > 20_000 || changedBefore > 1 || n.logCount(changedLine) != changedBefore {
		t.Fatalf("the log grew %d bytes in 5 s and says `topic changed` %d then %d times; want it once a minute at most", grown, changedBefore, n.logCount(changedLine))
	}
	t.Logf("topic changed: log grew %d bytes in 5 s, %d line(s) about it", grown, changedBefore)

	// A reset is refused while the consumer runs.
	if r := n.exec("reset offsets where topic = " + topic + " and to = earliest"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "exit kafka") {
		t.Fatalf("reset offsets with the consumer running: %d %s", r.Status, r.Body)
	}
	n.mustExec("exit kafka")
	out := n.mustExec("reset offsets where topic = " + topic + " and to = earliest")
	t.Logf("reset offsets:\n%s", out)
	if !strings.Contains(out, "New offset") || !strings.Contains(out, "g_recreated") {
		t.Fatalf("reset offsets reply:\n%s", out)
	}
	n.mustExec(consumer)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("topicdb", "t") == first+second }, "%d rows", first+second)
	exactlyOnce(t, n, first+second)
	waitStored(t, n, ends)

	// to = latest: what was produced meanwhile is skipped, as asked.
	n.mustExec("exit kafka")
	produce(20_000, 20)
	out = n.mustExec("reset offsets where topic = " + topic + " and to = latest")
	if !strings.Contains(out, "skipped") {
		t.Fatalf("reset to latest does not say what it skips:\n%s", out)
	}
	n.mustExec(consumer)
	waitStored(t, n, kafkatest.EndOffsets(t, b, topic))
	produce(30_000, 10)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("topicdb", "t") == first+second+10 }, "%d rows", first+second+10)

	// to = N below what the table holds: the table's rows from N on are
	// taken back and read again, once; offsets 30..39, skipped by the
	// reset to latest, come too. Each partition held offsets 0..29 and
	// 40..44 (30 rows from 5 on) and holds 0..44 after.
	n.mustExec("exit kafka")
	out = n.mustExec("reset offsets where topic = " + topic + " and to = 5")
	if !strings.Contains(out, "Table topicdb.t: 60 rows from the new offsets on removed") {
		t.Fatalf("reset to 5 does not say which rows it takes back:\n%s", out)
	}
	n.mustExec(consumer)
	waitStored(t, n, map[int32]int64{0: 45, 1: 45})
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("topicdb", "t") == first+90 }, "%d rows", first+90)
	exactlyOnce(t, n, first+90)

	// After a drop, the table is filled again from N, once.
	n.mustExec("exit kafka")
	n.mustExec("drop table t where dbms = topicdb")
	n.mustExec("reset offsets where topic = " + topic + " and to = 5")
	n.mustExec(consumer)
	waitStored(t, n, map[int32]int64{0: 45, 1: 45})
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("topicdb", "t") == 80 }, "80 rows re-read into the dropped table")
	exactlyOnce(t, n, 80)
	n.stop()
}

// changedLine starts the log line of a consumer's changed topic.
const changedLine = `msg="consumer 1: topic changed`

// waitStored waits until get msg client shows the stored offsets ends.
func waitStored(t *testing.T, n *nodeProc, ends map[int32]int64) {
	t.Helper()
	var s string
	waitFor(t, 60*time.Second, func() bool {
		s = n.mustExec("get msg client where format = json")
		for p, end := range ends {
			if !strings.Contains(s, fmt.Sprintf(`"partition": %d, "stored_offset": %d,`, p, end)) {
				return false
			}
		}
		return true
	}, "stored offsets %v in get msg client", ends)
}

// exactlyOnce checks that topicdb.t holds want rows with want distinct seq.
func exactlyOnce(t *testing.T, n *nodeProc, want int64) {
	t.Helper()
	n.mustExec("flush buffers")
	got := n.mustExec(`sql topicdb format = json:output and stat = false "select count(*) as c, count(distinct seq) as d from t"`)
	if !strings.Contains(got, fmt.Sprintf(`"c": %d`, want)) || !strings.Contains(got, fmt.Sprintf(`"d": %d`, want)) {
		t.Fatalf("rows: %s, want %d rows with %d distinct seq", got, want, want)
	}
}

// recreate deletes a topic and creates it again with the same name.
func recreate(t *testing.T, b *kafkatest.Broker, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(b.Client(t))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("deleting %s: %v", topic, err)
	}
	waitFor(t, 60*time.Second, func() bool {
		md, err := adm.Metadata(ctx, topic)
		return err == nil && (md.Topics[topic].Err != nil)
	}, "topic %s to be gone", topic)
	kafkatest.CreateTopic(t, b, topic, partitions)
}
