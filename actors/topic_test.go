package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
)

// TestCheckTopics: a topic with another identity, or a low-water mark beyond
// the high watermark read after it, stops the partition; a mark at the
// watermark, an unknown mark or a topic missing from the metadata do not.
func TestCheckTopics(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	got := make(chan *topicChanged, 16)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*topicChanged); ok {
			got <- m
		}
	}))
	idA := kafka.TopicIdentity{ClusterID: "c", TopicID: "a"}
	tp := func(topic string, p int32) kafka.TopicPartition {
		return kafka.TopicPartition{Topic: topic, Partition: p}
	}
	b := &bridge{sys: sys, consumer: pid, gen: 3, parts: map[kafka.TopicPartition]*partInfo{}, ids: map[string]kafka.TopicIdentity{"re": idA, "same": idA, "gone": idA}}
	for _, x := range []kafka.TopicPartition{tp("re", 0), tp("same", 0), tp("same", 1), tp("same", 2), tp("gone", 0)} {
		b.parts[x] = &partInfo{stats: newPartitionStats(x.Topic, x.Partition)}
	}
	now := map[string]kafka.TopicIdentity{"re": {ClusterID: "c", TopicID: "b"}, "same": idA}
	hw := map[kafka.TopicPartition]int64{tp("re", 0): 500, tp("same", 0): 250, tp("same", 1): 100, tp("same", 2): 7, tp("gone", 0): 0}
	lwms := map[kafka.TopicPartition]int64{tp("re", 0): 10, tp("same", 0): 125_000, tp("same", 1): 100, tp("gone", 0): 40}
	b.checkTopics(now, hw, lwms)
	want := map[kafka.TopicPartition]string{
		tp("re", 0):   "the topic was deleted and re-created (topic ID b, was a)",
		tp("same", 0): "the stored offset 125000 is beyond the topic's high watermark 250",
		tp("gone", 0): "the stored offset 40 is beyond the topic's high watermark 0",
	}
	deadline := time.After(5 * time.Second)
	// Counted first: deleting from a map while ranging over it skips the
	// entries not reached yet.
	for n := len(want); n > 0; n-- {
		select {
		case m := <-got:
			w, ok := want[m.tp]
			if !ok || !strings.Contains(m.why, w) || m.gen != 3 {
				t.Errorf("%s stopped: %q (gen %d); want %q", m.tp, m.why, m.gen, w)
			}
			delete(want, m.tp)
		case <-deadline:
			t.Fatalf("not stopped: %v", want)
		}
	}
	select {
	case m := <-got:
		t.Fatalf("%s stopped too: %s", m.tp, m.why)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestStatusTopicChanged: a consumer with a changed partition is in state
// "topic changed", naming the partition and what to do.
func TestStatusTopicChanged(t *testing.T) {
	st := newPartitionStats("ping", 1)
	st.setChanged("the topic was deleted and re-created (topic ID b, was a); stored offset 125000, high watermark 250")
	ok := newPartitionStats("ping", 0)
	box := &statusBox{state: "running", detail: "consuming", bridge: &bridge{parts: map[kafka.TopicPartition]*partInfo{
		{Topic: "ping", Partition: 1}: {stats: st}, {Topic: "ping", Partition: 0}: {stats: ok}}}}
	s := (&ConsumerHandle{status: box}).Status()
	if s.State != "topic changed" || !strings.HasPrefix(s.Detail, "ping[1]: the topic was deleted") ||
		!strings.Contains(s.Detail, "stored offset 125000, high watermark 250") || !strings.Contains(s.Detail, "reset offsets where topic = ping and to = earliest") {
		t.Fatalf("status %q: %q", s.State, s.Detail)
	}
	if lag, known := s.Partitions[1].KnownLag(); known {
		t.Fatalf("lag %d known without offsets", lag)
	}
}
