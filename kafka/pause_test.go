package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// partsHandler counts the assignments and the records of each partition.
type partsHandler struct {
	recordingHandler
	pmu     sync.Mutex
	records map[TopicPartition]int
}

func (h *partsHandler) Records(tp TopicPartition, recs []Record) {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	if h.records == nil {
		h.records = map[TopicPartition]int{}
	}
	h.records[tp] += len(recs)
}

func (h *partsHandler) got(tp TopicPartition) int {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	return h.records[tp]
}

func (h *partsHandler) assignedParts() []TopicPartition {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]TopicPartition(nil), h.assigned...)
}

// TestPausedPartitionResumesWhenAssignedAgain: a partition paused for
// backpressure (its tables behind, the disk full) when it is revoked is
// fetched again when it comes back. The client keeps pauses across
// assignments, and the partition's new actor, which never paused it, would
// never resume it: the partition stalled with nothing said.
func TestPausedPartitionResumesWhenAssignedAgain(t *testing.T) {
	const topic = "back"
	brokers := newCluster(t, topic, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := func(h ConsumerHandler) (*Consumer, func()) {
		t.Helper()
		return runConsumer(t, ctx, ConsumerConfig{Brokers: brokers, Group: "g", Topics: []string{topic}, Reset: "earliest", Handler: h,
			SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h1 := &partsHandler{}
	c1, stop1 := start(h1)
	defer stop1()
	waitFor("both partitions assigned to the first consumer", func() bool { return len(h1.assignedParts()) == 2 })
	// Both partitions' actors pause them, as tables that are behind do.
	for _, tp := range h1.assignedParts() {
		c1.Pause(tp)
	}

	// A second consumer takes one of them, then leaves: it comes back.
	h2 := &partsHandler{}
	_, stop2 := start(h2)
	waitFor("a partition moved to the second consumer", func() bool { return len(h2.assignedParts()) == 1 })
	moved := h2.assignedParts()[0]
	stop2()
	waitFor("the partition back with the first consumer", func() bool { return len(h1.assignedParts()) == 3 })

	// Its new actor never paused it: what is produced to it arrives.
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: moved.Partition, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitFor("the record produced to "+moved.String(), func() bool { return h1.got(moved) == 1 })
}
