package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestNodeGoneForGood kills one of two nodes sharing a topic and never
// restarts it. Its partitions move to the other node, which continues from
// the group-committed offsets: no message is lost. run client () names the
// lost node while its rows are away. The rows the lost node made durable
// past its last group commit exist twice if it comes back; the test reads
// both data dirs, checks that exactly those rows are doubled, and reports
// how many there are.
func TestNodeGoneForGood(t *testing.T) {
	b := kafkatest.Shared(t)
	// Names of their own, so that repeated runs on one broker start clean.
	topic := fmt.Sprintf("gone_%d", time.Now().UnixNano())
	group := topic
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = %s and topic = (name = %s and dbms = fleet and table = gpings and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, group, topic)
	la, lb := freeAddr(t), freeAddr(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startNodeWith(t, "gone-a", dirA, la, consumer, "--seeds", lb, "--kafka-session-timeout", "6s")
	bn := startNodeWith(t, "gone-b", dirB, lb, consumer, "--seeds", la, "--kafka-session-timeout", "6s")
	waitFor(t, 90*time.Second, func() bool {
		return len(msgClientsTB(t, a)[0].Partitions) == 2 && len(msgClientsTB(t, bn)[0].Partitions) == 2
	}, "the two nodes to share the 4 partitions")

	const total = 60_000
	now := time.Now()
	vals := make([][]byte, total)
	for i := range vals {
		vals[i] = pingMessage(i, now)
	}
	// A first slice creates the table on both nodes; the rest is paced
	// (1,000 messages every 20 ms) so that node b is ingesting when it dies.
	kafkatest.Produce(t, b, topic, vals[:4000]...)
	waitFor(t, 30*time.Second, func() bool { return strings.Count(a.mustExec("get nodes"), "fleet.gpings") == 2 }, "node a to know that node b hosts the table")
	produced := make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 4000; i < total; i += 1000 {
			<-tick.C
			if err := kafkatest.ProduceValues(b, topic, vals[i:min(i+1000, total)]...); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()
	waitFor(t, 60*time.Second, func() bool { return bn.rowCount("fleet", "gpings") > 10_000 }, "node b to ingest")
	bn.kill()
	// Nobody owns b's partitions until the session timeout: what the group
	// has committed for them now is where node a will start.
	committed := kafkatest.CommittedOffsets(t, b, group, topic)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}

	// run client () names the lost node: an error without subset = true,
	// a partial answer with it.
	waitFor(t, 30*time.Second, func() bool {
		return strings.Contains(strings.Join(a.exec("get nodes").Notices, "\n"), "node gone-b")
	}, "get nodes to report node b lost")
	count := `sql fleet "select count(*) from gpings"`
	if r := a.exec("run client () " + count); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "gone-b: no heartbeat since") {
		t.Fatalf("run client () with a lost node: %d\n%s", r.Status, r.Body)
	}
	if r := a.exec("run client (subset = true) " + count); r.Status != http.StatusOK || !strings.Contains(r.Body, `"Missing Nodes": ["gone-b"]`) {
		t.Fatalf("run client (subset = true) with a lost node: %d\n%s", r.Status, r.Body)
	}

	// Node a takes over b's partitions once the group gives up on b.
	waitFor(t, 90*time.Second, func() bool { return len(msgClientsTB(t, a)[0].Partitions) == 4 }, "node a to own the 4 partitions")

	// Where each message is in the topic.
	type place struct {
		p   int32
		off int64
	}
	where := make([]place, total)
	for _, rec := range kafkatest.ConsumeAll(t, b, topic, total, 90*time.Second) {
		var m struct{ Seq int }
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			t.Fatal(err)
		}
		where[m.Seq] = place{rec.Partition, rec.Offset}
	}
	sb := tablestest.OpenDir(t, dirB)
	onB := map[int64]bool{}
	tbl, _ := sb.Table("fleet", "gpings")
	seqCol := tbl.ColumnIndex("seq")
	for _, row := range tablestest.Dump(t, sb, "fleet", "gpings") {
		onB[row[seqCol].I] = true
	}
	// Node a will store everything except b's rows below the committed
	// offsets.
	expectA := int64(total)
	window := map[int32]int{}
	for s := range onB {
		pl := where[s]
		if c, ok := committed[pl.p]; ok && pl.off < c {
			expectA--
		} else {
			window[pl.p]++
		}
	}
	waitFor(t, 120*time.Second, func() bool { return a.rowCount("fleet", "gpings") == expectA }, "node a to store %d rows", expectA)
	a.stop()
	sa := tablestest.OpenDir(t, dirA)
	onA := map[int64]int{}
	for _, row := range tablestest.Dump(t, sa, "fleet", "gpings") {
		onA[row[seqCol].I]++
	}
	doubled := 0
	for s := range int64(total) {
		switch {
		case onA[s] > 1:
			t.Fatalf("message %d stored %d times on node a", s, onA[s])
		case onA[s] == 0 && !onB[s]:
			t.Fatalf("message %d lost: on neither node", s)
		case onA[s] == 1 && onB[s]:
			doubled++
			pl := where[s]
			if c, ok := committed[pl.p]; ok && pl.off < c {
				t.Fatalf("message %d (partition %d offset %d) doubled below the committed offset %d", s, pl.p, pl.off, c)
			}
		}
	}
	wsum := 0
	for _, n := range window {
		wsum += n
	}
	if doubled != wsum {
		t.Fatalf("%d messages on both nodes, want the %d node b stored past its group commit", doubled, wsum)
	}
	t.Logf("node b gone with %d rows; %d of them past its last group commit would exist twice if it came back (by partition: %v); committed offsets %v",
		len(onB), doubled, window, committed)
}
