package kafka

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// recordingHandler records what the consumer reports.
type recordingHandler struct {
	mu       sync.Mutex
	assigned []TopicPartition
	ids      map[string]TopicIdentity
	failed   []error
}

func (h *recordingHandler) Assigned(_ context.Context, tps []TopicPartition, ids map[string]TopicIdentity) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.assigned, h.ids = append(h.assigned, tps...), ids
	return nil
}

func (h *recordingHandler) StartOffsets(_ context.Context, committed map[TopicPartition]int64) map[TopicPartition]int64 {
	return committed
}
func (h *recordingHandler) Resolved(map[TopicPartition]int64)         {}
func (h *recordingHandler) Records(TopicPartition, []Record)          {}
func (h *recordingHandler) Revoked(context.Context, []TopicPartition) {}
func (h *recordingHandler) Lost([]TopicPartition)                     {}
func (h *recordingHandler) FetchError(error)                          {}
func (h *recordingHandler) HighWatermark(TopicPartition, int64)       {}
func (h *recordingHandler) TopicChanged(TopicPartition, string)       {}
func (h *recordingHandler) Failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = append(h.failed, err)
}

// TestAssignmentBeforeStartupEnds forces a partition assignment right after
// the group client exists, before NewConsumer returns — what a fast group
// join does (about 1 start in 75 once crashed on a nil admin client). The
// assignment must find the topic's identity.
func TestAssignmentBeforeStartupEnds(t *testing.T) {
	const topic = "early"
	brokers := newCluster(t, topic, 2)
	h := &recordingHandler{}
	afterGroupClient = func(c *Consumer) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c.onAssigned(ctx, c.cl, map[string][]int32{topic: {0, 1}})
	}
	t.Cleanup(func() { afterGroupClient = nil })
	c, err := NewConsumer(ConsumerConfig{Brokers: brokers, Group: "g", Topics: []string{topic}, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background(), false) }()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.failed) > 0 {
		t.Fatalf("the early assignment failed: %v", h.failed)
	}
	// The group's own assignment of the same partitions may come too,
	// before NewConsumer returns.
	early := []TopicPartition{{topic, 0}, {topic, 1}}
	forced := false
	for i := 0; i+2 <= len(h.assigned); i += 2 {
		forced = forced || slices.Equal(h.assigned[i:i+2], early)
	}
	if !forced || h.ids[topic].TopicID == "" || h.ids[topic].ClusterID == "" {
		t.Fatalf("assigned %v with identities %v; want both partitions of %s with its identity", h.assigned, h.ids, topic)
	}
}
