package node

import (
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
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
	if r[0] != "Kafka Consumer #3" || r[1] != "Stopped" || !strings.Contains(r[2], "restarts: 6, last at 2026-12-06 05:00:00: boom") {
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
