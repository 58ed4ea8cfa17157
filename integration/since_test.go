package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// exportedSeqs reads the committed records of topic and counts the seq of
// each exported row; empty-set replies are counted apart.
func exportedSeqs(t *testing.T, b *kafkatest.Broker, topic string) (map[int64]int, int) {
	t.Helper()
	seqs := map[int64]int{}
	empty := 0
	for _, r := range committedValues(t, b, topic) {
		if string(r) == `{"reply" : "Empty data set"}` {
			empty++
			continue
		}
		var row struct{ Seq *int64 }
		if err := json.Unmarshal(r, &row); err != nil || row.Seq == nil {
			t.Fatalf("exported message %q: %v", r, err)
		}
		seqs[*row.Seq]++
	}
	return seqs, empty
}

func committedValues(t *testing.T, b *kafkatest.Broker, topic string) [][]byte {
	var out [][]byte
	for _, r := range kafkatest.ConsumeCommitted(t, b, topic) {
		out = append(out, r.Value)
	}
	return out
}

func checkOnce(t *testing.T, seqs map[int64]int, total int) {
	t.Helper()
	for i := range int64(total) {
		if seqs[i] != 1 {
			t.Fatalf("row %d exported %d times", i, seqs[i])
		}
	}
	if len(seqs) != total {
		t.Fatalf("%d distinct rows exported, want %d", len(seqs), total)
	}
}

// TestExportSinceLast runs `since = last` exports over two nodes sharing a
// topic: each run sends only the rows committed since the previous one, from
// any node; then a scheduled export keeps running while its node is killed
// with SIGKILL, and every row still reaches the target topic exactly once.
func TestExportSinceLast(t *testing.T) {
	b := kafkatest.Shared(t)
	in, out1, out2 := "since_in", "since_out1", "since_out2"
	kafkatest.CreateTopic(t, b, in, 4)
	kafkatest.CreateTopic(t, b, out1, 3)
	kafkatest.CreateTopic(t, b, out2, 3)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = since and topic = (name = %s and dbms = fleet and table = spings and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, in)
	la, lb := freeAddr(t), freeAddr(t)
	a := startNodeWith(t, "since-a", t.TempDir(), la, consumer, "--seeds", lb)
	bn := startNodeWith(t, "since-b", t.TempDir(), lb, consumer, "--seeds", la)
	nodes := []*nodeProc{a, bn}
	sum := func() int64 {
		var s int64
		for _, n := range nodes {
			s += max(n.rowCount("fleet", "spings"), 0)
		}
		return s
	}
	now := time.Now()
	produce := func(from, n int) [][]byte {
		vals := make([][]byte, 0, n)
		for i := from; i < from+n; i++ {
			vals = append(vals, pingMessage(i, now))
		}
		return vals
	}
	waitFor(t, 90*time.Second, func() bool {
		return len(msgClientsTB(t, a)[0].Partitions) > 0 && len(msgClientsTB(t, bn)[0].Partitions) > 0
	}, "the two nodes to share the partitions")
	kafkatest.Produce(t, b, in, produce(0, 2000)...)
	waitFor(t, 90*time.Second, func() bool { return sum() == 2000 }, "2000 rows")
	waitFor(t, 30*time.Second, func() bool {
		return strings.Count(a.mustExec("get nodes"), "fleet.spings") == 2 && strings.Count(bn.mustExec("get nodes"), "fleet.spings") == 2
	}, "both nodes to list both hosts")

	export := func(topic string) string {
		return fmt.Sprintf(`run client () sql fleet format = json:output and stat = false and dest = kafka@%s:%s and topic = %s and since = last "select seq from spings"`, host, port, topic)
	}
	rows := func(n *nodeProc, topic string, want int) {
		t.Helper()
		r := n.exec(export(topic))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`"Rows" : %d`, want)) {
			t.Fatalf("since = last on %s: %d %s (want %d rows)", n.name, r.Status, r.Body, want)
		}
	}
	rows(a, out1, 2000)
	rows(a, out1, 0)
	kafkatest.Produce(t, b, in, produce(2000, 2000)...)
	waitFor(t, 90*time.Second, func() bool { return sum() == 4000 }, "4000 rows")
	rows(bn, out1, 2000) // the other node continues the same job
	// Apache Kafka writes a transaction's commit markers after EndTxn has
	// answered, so the last export's rows can become readable a moment
	// after the export returned (a CI run read the topic before them).
	var seqs map[int64]int
	var empty int
	waitFor(t, 30*time.Second, func() bool {
		seqs, empty = exportedSeqs(t, b, out1)
		return len(seqs) >= 4000
	}, "the two exports' 4000 rows to be readable")
	checkOnce(t, seqs, 4000)
	if empty != 0 {
		t.Fatalf("%d empty-set replies, want none (an idle since = last run writes nothing)", empty)
	}
	if r := a.exec(`sql fleet format = json:output and since = last "select seq from spings"`); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "since = last works with dest = kafka@") {
		t.Fatalf("since = last without kafka: %d %s", r.Status, r.Body)
	}

	// A scheduled export on node a, killed at random moments.
	schedule := func() {
		a.mustExec("run scheduler 1")
		a.mustExec(`schedule time = 1 second and name = ship task ` + export(out2))
	}
	schedule()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	const rounds, per = 3, 10_000
	total := 4000
	for k := range rounds {
		produced := make(chan error, 1)
		vals := produce(total, per)
		go func() { produced <- kafkatest.ProduceValues(b, in, vals...) }()
		base := int64(total)
		waitFor(t, 60*time.Second, func() bool { return sum() > base+per/4 }, "ingest before kill %d", k+1)
		waitFor(t, 60*time.Second, func() bool {
			return !strings.Contains(a.mustExec("get scheduler where format = json"), `"runs": 0`)
		}, "the scheduled export to run before kill %d", k+1)
		// The export runs every second; the kill lands anywhere in it.
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		a.kill()
		if err := <-produced; err != nil {
			t.Fatal(err)
		}
		total += per
		a.restart()
		schedule()
		t.Logf("kill %d: %d rows in the topic so far", k+1, len(committedValues(t, b, out2)))
	}
	waitFor(t, 120*time.Second, func() bool { return sum() == int64(total) }, "all %d rows", total)
	waitFor(t, 120*time.Second, func() bool {
		seqs, _ := exportedSeqs(t, b, out2)
		return len(seqs) >= total
	}, "the scheduled export to send all %d rows", total)
	seqs, _ = exportedSeqs(t, b, out2)
	checkOnce(t, seqs, total)
	a.mustExec("exit scheduler 1")
	for _, n := range nodes {
		n.stop()
	}
}
