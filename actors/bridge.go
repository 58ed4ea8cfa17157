package actors

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/tables"
)

// bridge is the consumer client's handler. franz-go calls it from its poll
// and group goroutines (never concurrently, thanks to BlockRebalanceOnPoll);
// it forwards to the consumer and partition actors.
type bridge struct {
	sys      *actor.ActorSystem
	consumer *actor.PID
	store    *tables.Store
	client   *kafka.Consumer
	status   *statusBox
	events   func(kind, text string)
	id       int
	gen      int
	trace    func(string)
	// runCtx is the client's Run context: a poll waiting for the fetch
	// budget gives up when it ends.
	runCtx context.Context

	mu     sync.Mutex
	parts  map[kafka.TopicPartition]*partInfo
	srcs   map[string]uint32
	ids    map[string]kafka.TopicIdentity // as assigned
	failed bool                           // a restart was requested
}

type partInfo struct {
	pid   *actor.PID
	src   uint32
	stats *PartitionStats
	flow  *fetchFlow // its share of the consumer's fetch budget
}

// closeFlow gives back what the partition's actor still held of the fetch
// budget: it is going away, and what its mailbox holds is never mapped.
func (pi *partInfo) closeFlow() {
	if pi.flow != nil {
		pi.flow.close()
	}
}

func (b *bridge) add(tp kafka.TopicPartition, pi *partInfo) {
	b.mu.Lock()
	b.parts[tp] = pi
	b.mu.Unlock()
}

func (b *bridge) get(tp kafka.TopicPartition) *partInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.parts[tp]
}

// drop forgets a partition actor that stopped; it reports whether it was
// one of this client's. A revoke then does not wait for it to drain.
func (b *bridge) drop(pid *actor.PID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for tp, pi := range b.parts {
		if pi.pid.Equal(pid) {
			pi.closeFlow()
			delete(b.parts, tp)
			return true
		}
	}
	return false
}

func (b *bridge) take(tps []kafka.TopicPartition) []*actor.PID {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*actor.PID
	for _, tp := range tps {
		if pi := b.parts[tp]; pi != nil {
			pi.closeFlow()
			out = append(out, pi.pid)
			delete(b.parts, tp)
		}
	}
	return out
}

// pids lists the partition actors.
func (b *bridge) pids() []*actor.PID {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*actor.PID, 0, len(b.parts))
	for _, pi := range b.parts {
		out = append(out, pi.pid)
	}
	return out
}

func (b *bridge) takeAll() []*actor.PID {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*actor.PID
	for tp, pi := range b.parts {
		pi.closeFlow()
		out = append(out, pi.pid)
		delete(b.parts, tp)
	}
	return out
}

func (b *bridge) counters() []PartitionCounters {
	b.mu.Lock()
	out := make([]PartitionCounters, 0, len(b.parts))
	for _, pi := range b.parts {
		out = append(out, pi.stats.Snapshot())
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y PartitionCounters) int {
		if x.Topic != y.Topic {
			if x.Topic < y.Topic {
				return -1
			}
			return 1
		}
		return int(x.Partition - y.Partition)
	})
	return out
}

// behind reports whether a partition's last visible batch, after since,
// held a record older than over.
func (b *bridge) behind(over time.Duration, since time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, pi := range b.parts {
		if pi.stats.behind(over, since) {
			return true
		}
	}
	return false
}

func (b *bridge) setHighWatermarks(hw map[kafka.TopicPartition]int64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for tp, pi := range b.parts {
		if v, ok := hw[tp]; ok {
			pi.stats.setHighWatermark(v, at)
		}
	}
}

// lowWaters returns the known low-water mark of each partition.
func (b *bridge) lowWaters() map[kafka.TopicPartition]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[kafka.TopicPartition]int64, len(b.parts))
	for tp, pi := range b.parts {
		if c := pi.stats.Snapshot(); c.LowWater >= 0 {
			out[tp] = c.LowWater
		}
	}
	return out
}

// checkTopics compares what the brokers say now with what the partitions
// were assigned with: a topic with another identity was re-created, and a
// low-water mark (taken before hw was read) beyond the high watermark means
// the log the node stored from is gone. Either stops the partition.
func (b *bridge) checkTopics(ids map[string]kafka.TopicIdentity, hw map[kafka.TopicPartition]int64, lwms map[kafka.TopicPartition]int64) {
	b.mu.Lock()
	var changed []topicChanged
	for tp := range b.parts {
		was, assigned := b.ids[tp.Topic]
		if now, ok := ids[tp.Topic]; ok && assigned && now != was {
			changed = append(changed, topicChanged{tp: tp, gen: b.gen, why: recreatedText(was, now)})
			continue
		}
		lwm, okL := lwms[tp]
		h, okH := hw[tp]
		if okL && okH && lwm > h {
			changed = append(changed, topicChanged{tp: tp, gen: b.gen, why: fmt.Sprintf("the stored offset %d is beyond the topic's high watermark %d (the topic was re-created or the broker lost records)", lwm, h)})
		}
	}
	b.mu.Unlock()
	for i := range changed {
		b.sys.Root.Send(b.consumer, &changed[i])
	}
}

func recreatedText(was, now kafka.TopicIdentity) string {
	if was.ClusterID != now.ClusterID {
		return fmt.Sprintf("the topic now lives in another Kafka cluster (cluster ID %s, was %s)", now.ClusterID, was.ClusterID)
	}
	return fmt.Sprintf("the topic was deleted and re-created (topic ID %s, was %s)", now.TopicID, was.TopicID)
}

// resetHint says what an operator does about a changed topic.
func resetHint(topic string) string {
	return fmt.Sprintf("to go on, run `exit kafka`, then `reset offsets where topic = %s and to = earliest` (or latest, or an offset) and start the consumer again", topic)
}

// TopicChanged reports a partition the client stopped: its topic was
// re-created (UNKNOWN_TOPIC_ID) or its offset is out of range.
func (b *bridge) TopicChanged(tp kafka.TopicPartition, why string) {
	b.sys.Root.Send(b.consumer, &topicChanged{tp: tp, gen: b.gen, why: why})
}

// HighWatermark records the high watermark a fetch response carried.
func (b *bridge) HighWatermark(tp kafka.TopicPartition, hw int64) {
	at := time.Now()
	b.mu.Lock()
	pi := b.parts[tp]
	b.mu.Unlock()
	if pi != nil {
		pi.stats.setHighWatermark(hw, at)
	}
}

func (b *bridge) Assigned(ctx context.Context, tps []kafka.TopicPartition, ids map[string]kafka.TopicIdentity) error {
	srcs := make(map[string]uint32, len(ids))
	for topic, id := range ids {
		src, err := b.store.SourceID(id.ClusterID, id.TopicID)
		if err != nil {
			return fmt.Errorf("source id of topic %s: %w", topic, err)
		}
		srcs[topic] = src
	}
	b.mu.Lock()
	b.srcs, b.ids = srcs, ids
	b.mu.Unlock()
	res, err := b.sys.Root.RequestFuture(b.consumer, &spawnPartitions{tps: tps, srcs: srcs}, 30*time.Second).Result()
	if err != nil {
		return fmt.Errorf("starting partition actors: %w", err)
	}
	if _, ok := res.(*spawned); !ok {
		return fmt.Errorf("starting partition actors: unexpected reply %T", res)
	}
	b.status.set("running", "consuming from "+b.client.String())
	return nil
}

func (b *bridge) StartOffsets(_ context.Context, committed map[kafka.TopicPartition]int64) map[kafka.TopicPartition]int64 {
	out := make(map[kafka.TopicPartition]int64, len(committed))
	for tp, c := range committed {
		pi := b.get(tp)
		if pi == nil {
			continue
		}
		start := c
		if lwm, ok := b.store.LowWater(pi.src, tp.Partition); ok && lwm > start {
			start = lwm
		}
		out[tp] = start
		b.sys.Root.Send(pi.pid, startAt{offset: start})
	}
	return out
}

func (b *bridge) Resolved(starts map[kafka.TopicPartition]int64) {
	for tp, at := range starts {
		if pi := b.get(tp); pi != nil {
			b.sys.Root.Send(pi.pid, startAt{offset: at, store: true})
		}
	}
}

func (b *bridge) Records(tp kafka.TopicPartition, recs []kafka.Record) {
	if pi := b.get(tp); pi != nil {
		d := &deliver{recs: recs}
		if pi.flow != nil && b.runCtx != nil {
			// Wait while the consumer holds its budget unmapped. Not
			// taken (the client stops, or the partition went away): the
			// records are not marked, so they are fetched again.
			d.size, d.flow = deliverySize(recs), pi.flow
			if !pi.flow.take(b.runCtx, d.size) {
				return
			}
		}
		b.sys.Root.Send(pi.pid, d)
		return
	}
	// Records of a partition without a partition actor cannot be stored:
	// drop them unmarked and restart from the durable offsets.
	b.Failed(fmt.Errorf("records of %s arrived for a partition that was not set up", tp))
}

func (b *bridge) Failed(err error) {
	b.mu.Lock()
	first := !b.failed
	b.failed = true
	b.mu.Unlock()
	if first {
		b.sys.Root.Send(b.consumer, &partitionBroken{err: err, gen: b.gen})
	}
}

func (b *bridge) Revoked(ctx context.Context, tps []kafka.TopicPartition) {
	var dones []chan struct{}
	for _, tp := range tps {
		if pi := b.get(tp); pi != nil {
			d := make(chan struct{})
			dones = append(dones, d)
			b.sys.Root.Send(pi.pid, drain{done: d})
		}
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
		case <-deadline.C:
			b.events("kafka", fmt.Sprintf("consumer %d: partitions did not drain within 30 s on revoke; they resume from their last durable offsets", b.id))
			return
		}
	}
	if b.trace != nil {
		b.trace(fmt.Sprintf("consumer %d tables committed the batches in flight", b.id))
	}
	for _, pid := range b.take(tps) {
		_ = b.sys.Root.StopFuture(pid).Wait()
	}
}

func (b *bridge) Lost(tps []kafka.TopicPartition) {
	for _, pid := range b.take(tps) {
		_ = b.sys.Root.StopFuture(pid).Wait()
	}
}

func (b *bridge) FetchError(err error) {
	if err == nil {
		b.status.set("running", "consuming from "+b.client.String())
		b.events("kafka", fmt.Sprintf("consumer %d: fetching works again", b.id))
		return
	}
	b.status.set("retrying", err.Error())
	b.events("kafka", fmt.Sprintf("consumer %d: %v (retrying with backoff)", b.id, err))
}
