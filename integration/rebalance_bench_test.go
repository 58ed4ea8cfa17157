package integration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// ownership is a group member's handler that only tracks the partitions it
// owns.
type ownership struct {
	mu    sync.Mutex
	owned map[kafka.TopicPartition]bool
}

func (o *ownership) Assigned(_ context.Context, tps []kafka.TopicPartition, _ map[string]kafka.TopicIdentity) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, tp := range tps {
		o.owned[tp] = true
	}
	return nil
}

func (o *ownership) StartOffsets(_ context.Context, c map[kafka.TopicPartition]int64) map[kafka.TopicPartition]int64 {
	return c
}
func (o *ownership) Resolved(map[kafka.TopicPartition]int64)      {}
func (o *ownership) Records(kafka.TopicPartition, []kafka.Record) {}
func (o *ownership) Revoked(_ context.Context, tps []kafka.TopicPartition) {
	o.Lost(tps)
}
func (o *ownership) Lost(tps []kafka.TopicPartition) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, tp := range tps {
		delete(o.owned, tp)
	}
}
func (o *ownership) Failed(error)                              {}
func (o *ownership) FetchError(error)                          {}
func (o *ownership) HighWatermark(kafka.TopicPartition, int64) {}
func (o *ownership) TopicChanged(kafka.TopicPartition, string) {}
func (o *ownership) snapshot() (out []kafka.TopicPartition) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for tp := range o.owned {
		out = append(out, tp)
	}
	return out
}

// timeToBalance runs the scenario of nodes started one after another:
// members of a group (as a node runs them: static membership,
// cooperative-sticky) start one at a time over a new topic of 4 partitions,
// each once the group is balanced again; it returns the time from the last
// member's start until every member owns at least one partition and each
// partition has exactly one owner.
func timeToBalance(tb testing.TB, br *kafkatest.Broker, topic string, n int, heartbeat time.Duration) time.Duration {
	tb.Helper()
	kafkatest.CreateTopic(tb, br, topic, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	owners := make([]*ownership, n)
	var wg sync.WaitGroup
	start := func(i int) {
		owners[i] = &ownership{owned: map[kafka.TopicPartition]bool{}}
		c, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: []string{br.Addr()}, Group: topic, InstanceID: fmt.Sprintf("%s-node-%d", topic, i),
			Topics: []string{topic}, Reset: "earliest", Handler: owners[i], HeartbeatInterval: heartbeat})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Run(ctx)
		}()
		tb.Cleanup(func() {
			cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer ccancel()
			_ = c.Close(cctx, true)
		})
	}
	balanced := func(members int) bool {
		seen := map[kafka.TopicPartition]int{}
		for _, o := range owners[:members] {
			tps := o.snapshot()
			if len(tps) == 0 {
				return false
			}
			for _, tp := range tps {
				seen[tp]++
			}
		}
		if len(seen) != 4 {
			return false
		}
		for _, k := range seen {
			if k != 1 {
				return false
			}
		}
		return true
	}
	// Members 0..n-2 start one after another, each once the group is
	// balanced again; the last one is timed.
	for i := range n - 1 {
		start(i)
		waitFor(tb, 60*time.Second, func() bool { return balanced(i + 1) }, "%d members to share the partitions", i+1)
	}
	start(n - 1)
	t0 := time.Now()
	deadline := t0.Add(60 * time.Second)
	for !balanced(n) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not balanced over %d members 60 s after the last start", topic, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d := time.Since(t0)
	cancel()
	return d
}

// BenchmarkGroupBalance: how long a group of 3 members takes to share a
// topic's partitions after the last one starts, with franz-go's default
// heartbeat interval (3 s, the node's) and with 0.5 s, on
// Apache Kafka (the suite's broker: group.initial.rebalance.delay.ms=0)
// and kfake. Median and maximum of LAKENODE_BENCH_ROUNDS rounds (default 5).
func BenchmarkGroupBalance(b *testing.B) {
	rounds := envInt(b, "LAKENODE_BENCH_ROUNDS", 5)
	for _, kind := range []string{"apache", "kfake"} {
		b.Run(kind, func(b *testing.B) {
			var br *kafkatest.Broker
			if kind == "apache" {
				br = kafkatest.StartApache(b)
			} else {
				br = kafkatest.StartKfake(b)
			}
			for range b.N {
				for _, hb := range []time.Duration{3 * time.Second, 500 * time.Millisecond} {
					var ds []time.Duration
					for r := range rounds {
						ds = append(ds, timeToBalance(b, br, fmt.Sprintf("balance_%d_%d", hb.Milliseconds(), r), 3, hb))
					}
					slices.Sort(ds)
					b.Logf("%s, heartbeat %v: to balance over 3 members %v (median %v, max %v)", kind, hb, ds, ds[len(ds)/2], ds[len(ds)-1])
					b.ReportMetric(float64(ds[len(ds)/2].Milliseconds()), fmt.Sprintf("ms-median-hb%dms", hb.Milliseconds()))
					b.ReportMetric(float64(ds[len(ds)-1].Milliseconds()), fmt.Sprintf("ms-max-hb%dms", hb.Milliseconds()))
				}
			}
		})
	}
}
