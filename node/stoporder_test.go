package node

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestStopOrder checks what SIGTERM does (cmd calls Node.Stop): consumers
// stop fetching, the tables commit the batches in flight, offsets are
// committed, the tables flush and stop, the store closes.
func TestStopOrder(t *testing.T) {
	var mu sync.Mutex
	var steps []string
	cfg := DefaultConfig()
	cfg.DataDir, cfg.MinFree, cfg.KafkaEmbedded = t.TempDir(), 0, "127.0.0.1:0"
	cfg.stopTrace = func(s string) {
		mu.Lock()
		steps = append(steps, s)
		mu.Unlock()
	}
	n := startIngestNode(t, cfg, "t", 50)
	kafkatest.WaitFor(t, 60*time.Second, func() bool { return n.RowCount("d", "t") == 50 }, "%d of 50 rows stored", n.RowCount("d", "t"))
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"consumer 1 stops fetching", "consumer 1 tables committed the batches in flight", "consumer 1 offsets committed", "tables flushed and stopped", "store closed"}
	mu.Lock()
	got := slices.Clone(steps)
	mu.Unlock()
	at := 0
	for _, s := range got {
		if at < len(want) && s == want[at] {
			at++
		}
	}
	if at != len(want) {
		t.Fatalf("stop steps %q, want in order %q", got, want)
	}
}

// startIngestNode starts a node with an embedded broker, a consumer of
// topic in into d.TABLE, and produces msgs messages; unless msgs is 0 it
// waits until they are stored. The node is stopped at the end of the test
// (a second Stop does nothing).
func startIngestNode(t *testing.T, cfg Config, table string, msgs int) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	ctx := context.Background()
	broker := n.EmbeddedBroker()
	host, port, err := net.SplitHostPort(broker)
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf(`<run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = in and dbms = d and table = %s and column.v.int = "bring [v]")>`, host, port, table)
	if res := n.Execute(ctx, cmd, ExecOptions{}); res.Err != nil {
		t.Fatal(res.Err)
	}
	produceValues(t, broker, msgs)
	return n
}

// produceValues produces {"v":0} .. {"v":msgs-1} to topic in, one at a
// time, each acknowledged.
func produceValues(t *testing.T, broker string, msgs int) {
	t.Helper()
	p, err := kafka.NewProducer([]string{broker}, kafka.Security{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range msgs {
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.ProduceSync(pctx, kafka.Message{Topic: "in", Value: fmt.Appendf(nil, `{"v":%d}`, i)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}
