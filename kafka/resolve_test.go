package kafka

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// eventsHandler records resolved starts and records by partition, and the
// fetch error in force.
type eventsHandler struct {
	recordingHandler
	emu      sync.Mutex
	events   []string // "resolved <tp>=<at>", "<tp> <offset>", "error cleared"
	fetchErr error
}

func (h *eventsHandler) Resolved(starts map[TopicPartition]int64) {
	h.emu.Lock()
	defer h.emu.Unlock()
	for tp, at := range starts {
		h.events = append(h.events, fmt.Sprintf("resolved %s=%d", tp, at))
	}
}

func (h *eventsHandler) Records(tp TopicPartition, recs []Record) {
	h.emu.Lock()
	defer h.emu.Unlock()
	for _, r := range recs {
		h.events = append(h.events, fmt.Sprintf("%s %d", tp, r.Offset))
	}
}

func (h *eventsHandler) FetchError(err error) {
	h.emu.Lock()
	defer h.emu.Unlock()
	h.fetchErr = err
	if err == nil {
		h.events = append(h.events, "error cleared")
	}
}

func (h *eventsHandler) snapshot() ([]string, error) {
	h.emu.Lock()
	defer h.emu.Unlock()
	return append([]string(nil), h.events...), h.fetchErr
}

// waitFor polls h until cond holds, for at most 60 s; more says what else
// to print on failure.
func (h *eventsHandler) waitFor(t *testing.T, what string, cond func(events []string, fetchErr error) bool, more func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		events, fetchErr := h.snapshot()
		if cond(events, fetchErr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60 s; events %v, fetch error %v; %s", what, events, fetchErr, more())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runConsumer creates a consumer and runs it until the returned stop (or
// the test's end), which then closes it.
func runConsumer(t *testing.T, ctx context.Context, cfg ConsumerConfig) (*Consumer, func()) {
	t.Helper()
	c, err := NewConsumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = c.Run(runCtx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-ran
			_ = c.Close(context.Background(), true)
		})
	}
	t.Cleanup(stop)
	return c, stop
}

// refuseListOffsets answers a ListOffsets request itself: each requested
// partition gets what answer says, an offset or an error code.
func refuseListOffsets(kreq kmsg.Request, answer func(rp kmsg.ListOffsetsRequestTopicPartition) (offset int64, code int16)) kmsg.Response {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Offset, sp.ErrorCode = answer(rp)
			sp.LeaderEpoch = -1
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// TestLatestStartIsStoredBeforeConsuming: while the brokers cannot tell a
// partition's end offset, a "latest" consumer consumes nothing of it (it
// used to consume from the client's own reset with no start stored, so
// that a restart before the first record applied "latest" again and
// skipped what was produced meanwhile). It says why, retries, and once the
// offset is known hands it to Resolved before any record.
func TestLatestStartIsStoredBeforeConsuming(t *testing.T) {
	const topic = "late"
	c := newFakeCluster(t, topic, 1)
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produce := func(n int) {
		t.Helper()
		for range n {
			if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(5) // offsets 0-4, before the consumer: "latest" skips them

	var blocking atomic.Bool
	var refused atomic.Int64
	blocking.Store(true)
	c.ControlKey(int16(kmsg.ListOffsets), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !blocking.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		return refuseListOffsets(kreq, func(kmsg.ListOffsetsRequestTopicPartition) (int64, int16) {
			return 0, kerr.NotLeaderForPartition.Code
		}), nil, true
	})

	h := &eventsHandler{}
	runConsumer(t, ctx, ConsumerConfig{Brokers: brokers, Group: "g", Topics: []string{topic}, Reset: "latest", Handler: h})
	more := func() string { return fmt.Sprintf("ListOffsets refused %d times", refused.Load()) }
	waitFor := func(what string, cond func(events []string, fetchErr error) bool) {
		t.Helper()
		h.waitFor(t, what, cond, more)
	}
	// The partition is held, and the status says why.
	waitFor("the fetch error naming the unresolved start", func(_ []string, fetchErr error) bool {
		return fetchErr != nil && strings.Contains(fetchErr.Error(), "resolving the latest start offset of late[0]")
	})
	if _, fetchErr := h.snapshot(); !strings.HasPrefix(fetchErr.Error(), "consumer group g: ") {
		t.Errorf("fetch error %q: want it to name the consumer group", fetchErr)
	} else {
		t.Logf("reported while the end offset was refused: %v", fetchErr)
	}
	if events, _ := h.snapshot(); len(events) > 0 {
		t.Fatalf("with no start offset known the consumer reported %v; want nothing", events)
	}
	produce(3) // offsets 5-7, while the end offset cannot be read
	blocking.Store(false)
	// The start is resolved (to the end when the brokers answer again)
	// and handed over before any record; then records flow from it.
	waitFor("the resolved start", func(events []string, _ error) bool { return len(events) > 0 })
	produce(2) // offsets 8 and 9
	waitFor("records 8 and 9", func(events []string, _ error) bool { return len(events) >= 4 })
	events, _ := h.snapshot()
	// The error is cleared when the partition has its start, before any
	// record (which a quiet topic may not bring for long).
	want := []string{"resolved late[0]=8", "error cleared", "late[0] 8", "late[0] 9"}
	if strings.Join(events, "; ") != strings.Join(want, "; ") {
		t.Fatalf("events %v, want %v", events, want)
	}
	if refused.Load() == 0 {
		t.Fatal("no ListOffsets request was refused: the test did not test")
	}
}

// TestHeldPartitionDoesNotStopTheOthers: while the brokers cannot tell one
// partition's end offset, a "latest" consumer consumes the others; the
// held one has nothing consumed until its start is stored, then starts
// there. (The whole group session used to fail, so that no partition was
// consumed until every start was known.)
func TestHeldPartitionDoesNotStopTheOthers(t *testing.T) {
	const topic = "half"
	c := newFakeCluster(t, topic, 2)
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var produced [2]atomic.Int64
	produce := func(p int32, n int) {
		t.Helper()
		for range n {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			produced[p].Add(1)
		}
	}
	produce(0, 4) // before the consumer: "latest" skips them
	produce(1, 3)

	// The brokers answer for partition 0 and refuse partition 1.
	var blocking atomic.Bool
	var refused atomic.Int64
	blocking.Store(true)
	c.ControlKey(int16(kmsg.ListOffsets), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !blocking.Load() {
			return nil, nil, false
		}
		return refuseListOffsets(kreq, func(rp kmsg.ListOffsetsRequestTopicPartition) (int64, int16) {
			switch {
			case rp.Partition == 1:
				refused.Add(1)
				return 0, kerr.NotLeaderForPartition.Code
			case rp.Timestamp == -2: // earliest
				return 0, 0
			}
			return produced[rp.Partition].Load(), 0
		}), nil, true
	})

	h := &eventsHandler{}
	runConsumer(t, ctx, ConsumerConfig{Brokers: brokers, Group: "g", Topics: []string{topic}, Reset: "latest", Handler: h})
	more := func() string { return fmt.Sprintf("partition 1 refused %d times", refused.Load()) }
	waitFor := func(what string, cond func(events []string, fetchErr error) bool) {
		t.Helper()
		h.waitFor(t, what, cond, more)
	}
	has := func(events []string, e string) bool { return slices.Contains(events, e) }

	// Partition 0 starts at its end and is consumed; partition 1 is held,
	// and the status says so.
	waitFor("partition 0's start", func(events []string, _ error) bool { return has(events, "resolved half[0]=4") })
	produce(0, 2) // offsets 4 and 5
	produce(1, 2) // offsets 3 and 4, while partition 1 is held
	waitFor("partition 0's records while partition 1 is held", func(events []string, fetchErr error) bool {
		return has(events, "half[0] 5") && fetchErr != nil && strings.Contains(fetchErr.Error(), "half[1]")
	})
	events, fetchErr := h.snapshot()
	if !strings.HasPrefix(fetchErr.Error(), "consumer group g: resolving the latest start offset of half[1]") || !strings.Contains(fetchErr.Error(), "the other partitions are consumed meanwhile") {
		t.Errorf("status while held: %v", fetchErr)
	}
	for _, e := range events {
		if strings.Contains(e, "half[1]") {
			t.Fatalf("partition 1 had %q before its start was known: events %v", e, events)
		}
	}

	// Once the brokers answer, partition 1's start is stored first, the
	// status clears, and it is consumed from there.
	blocking.Store(false)
	waitFor("partition 1's start", func(events []string, _ error) bool { return has(events, "resolved half[1]=5") })
	produce(1, 1) // offset 5
	waitFor("partition 1's record", func(events []string, _ error) bool { return has(events, "half[1] 5") })
	events, _ = h.snapshot()
	var tail []string
	for _, e := range events {
		if strings.Contains(e, "half[1]") || e == "error cleared" {
			tail = append(tail, e)
		}
	}
	if want := []string{"resolved half[1]=5", "error cleared", "half[1] 5"}; !slices.Equal(tail, want) {
		t.Fatalf("partition 1's events %v, want %v (all: %v)", tail, want, events)
	}
	if refused.Load() == 0 {
		t.Fatal("no ListOffsets request for partition 1 was refused: the test did not test")
	}
}

// TestHeldStatusClearsWhenTheHeldPartitionsGo: the error a hold reported
// clears when the last held partition is revoked, not only when it starts
// (the status would say "holding" for partitions the consumer no longer
// has); it stays while another is held.
func TestHeldStatusClearsWhenTheHeldPartitionsGo(t *testing.T) {
	h := &eventsHandler{}
	a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	c := &Consumer{cfg: ConsumerConfig{Handler: h}, held: map[TopicPartition]bool{a: true, b: true}, ready: map[TopicPartition]int64{}, paused: map[TopicPartition]bool{}}
	c.failing.Store(true)
	h.FetchError(fmt.Errorf("consumer group g: resolving the latest start offset of t[0], t[1]: refused"))
	c.unhold(map[string][]int32{"t": {0}})
	if events, err := h.snapshot(); err == nil || len(events) != 0 {
		t.Fatalf("with t[1] still held: events %v, status %v; want the error kept", events, err)
	}
	c.unhold(map[string][]int32{"t": {1}})
	if events, err := h.snapshot(); err != nil || !slices.Equal(events, []string{"error cleared"}) {
		t.Fatalf("with nothing held: events %v, status %v; want the error cleared", events, err)
	}
	if c.failing.Load() {
		t.Error("still failing with nothing held")
	}
}
