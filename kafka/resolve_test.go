package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startHandler records the order of Resolved and Records, and the last
// fetch error.
type startHandler struct {
	recordingHandler
	mu       sync.Mutex
	events   []string // "resolved <tp>=<at>", "record <offset>" and "error cleared"
	fetchErr error
}

func (h *startHandler) Resolved(starts map[TopicPartition]int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for tp, at := range starts {
		h.events = append(h.events, fmt.Sprintf("resolved %s=%d", tp, at))
	}
}

func (h *startHandler) Records(_ TopicPartition, recs []Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		h.events = append(h.events, fmt.Sprintf("record %d", r.Offset))
	}
}

func (h *startHandler) FetchError(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.fetchErr = err
		return
	}
	h.events = append(h.events, "error cleared")
}

func (h *startHandler) snapshot() ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...), h.fetchErr
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
		req := kreq.(*kmsg.ListOffsetsRequest)
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		refused.Add(1)
		return resp, nil, true
	})

	h := &startHandler{}
	cons, err := NewConsumer(ConsumerConfig{Brokers: brokers, Group: "g", Topics: []string{topic}, Reset: "latest", Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cons.Close(context.Background(), false) }()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = cons.Run(runCtx)
	}()
	defer func() {
		stop()
		<-ran
	}()

	waitFor := func(what string, cond func(events []string, fetchErr error) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			events, fetchErr := h.snapshot()
			if cond(events, fetchErr) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s; events %v, fetch error %v, ListOffsets refused %d times", what, events, fetchErr, refused.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The consumer gives up for this group session and says why.
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
	// The error is cleared when the session has its start, before any
	// record (which a quiet topic may not bring for long).
	want := []string{"resolved late[0]=8", "error cleared", "record 8", "record 9"}
	if strings.Join(events, "; ") != strings.Join(want, "; ") {
		t.Fatalf("events %v, want %v", events, want)
	}
	if refused.Load() == 0 {
		t.Fatal("no ListOffsets request was refused: the test did not test")
	}
}

// TestStaleStartErrors: a failed session's start error that reaches a poll
// after a later session had every start is dropped; one that is not yet
// answered so, or any other error, is not.
func TestStaleStartErrors(t *testing.T) {
	first := &startError{gen: 1, err: fmt.Errorf("resolving the latest start offset of t[0] after 3 tries: %w", kerr.NotLeaderForPartition)}
	second := &startError{gen: 2, err: first.err}
	for _, tc := range []struct {
		name  string
		up    uint64 // sessions up after that many failures
		err   error
		stale bool
	}{
		{"no session up yet", 0, &kgo.ErrGroupSession{Err: first}, false},
		{"a later session is up", 1, &kgo.ErrGroupSession{Err: first}, true},
		{"wrapped by Run", 1, fmt.Errorf("consumer group g: %w", &kgo.ErrGroupSession{Err: first}), true},
		{"a failure after the session that came up", 1, &kgo.ErrGroupSession{Err: second}, false},
		{"both answered", 2, &kgo.ErrGroupSession{Err: second}, true},
		{"a broker's error", 2, &kgo.ErrGroupSession{Err: kerr.NotLeaderForPartition}, false},
		{"a fetch error", 2, kerr.UnknownTopicOrPartition, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Consumer{}
			c.startFails.Store(2)
			c.startUp.Store(tc.up)
			if got := c.staleStart(tc.err); got != tc.stale {
				t.Errorf("staleStart(%v) = %v, want %v", tc.err, got, tc.stale)
			}
		})
	}
	// The text is the resolution's, as before.
	if got := (&kgo.ErrGroupSession{Err: first}).Error(); !strings.Contains(got, "resolving the latest start offset of t[0] after 3 tries") {
		t.Errorf("the error reads %q", got)
	}
}
