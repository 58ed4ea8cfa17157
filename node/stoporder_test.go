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
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = n.Stop(context.Background())
		}
	})
	ctx := context.Background()
	broker := n.EmbeddedBroker()
	host, port, err := net.SplitHostPort(broker)
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf(`<run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = in and dbms = d and table = t and column.v.int = "bring [v]")>`, host, port)
	if res := n.Execute(ctx, cmd, ExecOptions{}); res.Err != nil {
		t.Fatal(res.Err)
	}
	p, err := kafka.NewProducer([]string{broker}, kafka.Security{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]kafka.Message, 50)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "in", Value: fmt.Appendf(nil, `{"v":%d}`, i)}
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.ProduceSync(pctx, msgs...); err != nil {
		t.Fatal(err)
	}
	p.Close()
	deadline := time.Now().Add(60 * time.Second)
	for n.RowCount("d", "t") < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 50 rows stored", n.RowCount("d", "t"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped = true
	if err := n.Stop(ctx); err != nil {
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
