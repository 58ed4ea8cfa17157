package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/node/output"
)

func failedConsumer() consumerStatus {
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	return consumerStatus{ID: 3, Spec: spec.ConsumerSpec{IP: "127.0.0.1", Port: "9092"}, Status: actors.ConsumerStatus{
		State: "stopped", Detail: "stopped after more than 5 failures in 1m0s; last: boom",
		Failures: actors.FailureStatus{Restarts: 6, LastError: "boom", LastAt: at},
	}}
}

func TestProcessesShowConsumerRestarts(t *testing.T) {
	rows := consumerProcessRows([]consumerStatus{failedConsumer()}, "")
	if len(rows) != 1 {
		t.Fatalf("rows %q", rows)
	}
	r := rows[0]
	if r[0] != "Kafka Consumer #3" || r[1] != "Stopped" || !strings.HasSuffix(r[2], "last: boom; restarts: 6, last at 2026-12-06 05:00:00") {
		t.Fatalf("row %q", r)
	}
	running := failedConsumer()
	running.Status.State, running.Status.Detail = "running", "consuming from 127.0.0.1:9092"
	if r := consumerProcessRows([]consumerStatus{running}, ""); r[0][1] != "Running" || !strings.HasSuffix(r[0][2], "restarts: 6, last at 2026-12-06 05:00:00: boom") {
		t.Fatalf("row %q", r)
	}
	ok := consumerStatus{ID: 1, Status: actors.ConsumerStatus{State: "running"}}
	if r := consumerProcessRows([]consumerStatus{ok}, ""); strings.Contains(r[0][2], "restarts") {
		t.Fatalf("a consumer that never failed shows restarts: %q", r)
	}
}

func TestMsgClientShowsRestarts(t *testing.T) {
	var b strings.Builder
	writeMsgClient(&b, failedConsumer(), false, false, "")
	if !strings.Contains(b.String(), "Connection:   Kafka Consumer (stopped: stopped after more than 5 failures") ||
		!strings.Contains(b.String(), "Restarts:     6, last at 2026-12-06 05:00:00: boom") {
		t.Fatalf("text:\n%s", b.String())
	}
	o := msgClientObject(failedConsumer())
	js := output.JSON(o, false)
	if !strings.Contains(js, `"restarts"`) || !strings.Contains(js, "boom") {
		t.Fatalf("json: %s", js)
	}
}

func TestMsgClientShowsMappingBehind(t *testing.T) {
	c := consumerStatus{ID: 2, Status: actors.ConsumerStatus{State: "running"}}
	var b strings.Builder
	writeMsgClient(&b, c, false, false, "")
	if strings.Contains(b.String(), "Mapping behind") || strings.Contains(output.JSON(msgClientObject(c), false), "fetch_") {
		t.Fatalf("a consumer whose fetching never waited shows it:\n%s", b.String())
	}
	c.Status.Fetch = actors.FetchBudgetStatus{Held: 70 << 20, Max: 64 << 20, Waits: 3}
	b.Reset()
	writeMsgClient(&b, c, false, false, "")
	if want := "Mapping behind: 70.0 of 64 MiB fetched and not yet mapped; fetching waited 3 times for mapping to catch up"; !strings.Contains(b.String(), want) {
		t.Fatalf("text lacks %q:\n%s", want, b.String())
	}
	if js := output.JSON(msgClientObject(c), false); !strings.Contains(js, `"fetch_waits": 3`) || !strings.Contains(js, `"fetch_unmapped_bytes": 73400320`) {
		t.Fatalf("json: %s", js)
	}
}

// TestProcessesShowAStoppedTableWriter runs a writer that always fails: it
// is restarted, then stopped, and get processes and get msg client say so.
func TestProcessesShowAStoppedTableWriter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.MinFree, cfg.KafkaEmbedded = t.TempDir(), 0, "127.0.0.1:0"
	cfg.hooks = &actors.TestHooks{Apply: func(table string) {
		if table == "d.bad" {
			panic("injected commit failure")
		}
	}}
	n := startIngestNode(t, cfg, "bad", 0)
	broker := n.EmbeddedBroker()
	go func() {
		p, err := kafka.NewProducer([]string{broker}, kafka.Security{}, nil)
		if err != nil {
			return
		}
		defer p.Close()
		for i := range 40 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := p.ProduceSync(ctx, kafka.Message{Topic: "in", Value: fmt.Appendf(nil, `{"v":%d}`, i)})
			cancel()
			if err != nil {
				return
			}
		}
	}()
	processes := func() string {
		return n.Execute(context.Background(), "get processes", ExecOptions{}).Text
	}
	kafkatest.WaitFor(t, 90*time.Second, func() bool {
		return strings.Contains(processes(), "Table Writer d.bad") && strings.Contains(processes(), "Stopped")
	},
		"get processes shows the stopped writer:\n%s", processes())
	out := processes()
	t.Logf("get processes:\n%s", out)
	if !strings.Contains(out, "stopped after repeated failures") || !strings.Contains(out, "injected commit failure") {
		t.Fatalf("get processes:\n%s", out)
	}
	kafkatest.WaitFor(t, 90*time.Second, func() bool {
		return strings.Contains(n.Execute(context.Background(), "get msg client", ExecOptions{}).Text, "Restarts:")
	}, "get msg client shows the consumer's restarts:\n%s", n.Execute(context.Background(), "get msg client", ExecOptions{}).Text)
	if c := n.RowCount("d", "bad"); c != 0 {
		t.Fatalf("%d rows stored by a writer that always fails", c)
	}
}
