package actortest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/actors/actortest"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/spec"
)

func messages(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"v":%d}`, from+i)
	}
	return out
}

// waitAllOnce waits until dbms.table holds v = 0..n-1, each exactly once
// (by value and by the store's row counter).
func waitAllOnce(t *testing.T, h *actortest.Harness, dbms, table string, n int) {
	t.Helper()
	h.WaitFor(60*time.Second, func() bool { return h.RowCount(dbms, table) >= int64(n) }, "%d rows of %s.%s stored (have %d)", n, dbms, table, h.RowCount(dbms, table))
	vals := h.Values(dbms, table)
	if len(vals) != n {
		t.Fatalf("%d rows, want %d", len(vals), n)
	}
	for i, v := range vals {
		if v != int64(i) {
			t.Fatalf("row %d has v = %d: a message is missing or stored twice", i, v)
		}
	}
	if c := h.RowCount(dbms, table); c != int64(n) {
		t.Fatalf("the store counted %d rows for %d messages: a batch was applied twice", c, n)
	}
}

func TestTableWriterPanicIsRestartedAndEveryMessageStoredOnce(t *testing.T) {
	var applies atomic.Int32
	hooks := &actors.TestHooks{Apply: func(table string) {
		if table == "d.t" {
			if n := applies.Add(1); n == 1 || n == 3 {
				panic(fmt.Sprintf("injected failure in commit %d", n))
			}
		}
	}}
	h := actortest.Start(t, hooks)
	h.Produce("in", messages(0, 100)...)
	c := h.RunConsumer(2, actortest.Topic{Name: "in", DBMS: "d", Table: "t"})
	h.WaitFor(30*time.Second, func() bool { return h.RowCount("d", "t") > 0 }, "first rows stored")
	h.Produce("in", messages(100, 100)...)
	waitAllOnce(t, h, "d", "t", 200)

	st := h.Tree.Catalog.Status()["d.t"]
	if st.Failures.Restarts < 1 || !strings.Contains(st.Failures.LastError, "injected failure") || st.Failures.LastAt.IsZero() || st.Failures.Stopped {
		t.Fatalf("table status after a panic: %+v", st.Failures)
	}
	cs := c.Status()
	if cs.Failures.Restarts < 1 || !strings.Contains(cs.Failures.LastError, "restarted") {
		t.Fatalf("consumer status: the partitions fed by the failed writer should have restarted from their durable offsets: %+v", cs.Failures)
	}
	if cs.State != "running" {
		t.Fatalf("consumer state %q (%s)", cs.State, cs.Detail)
	}
	if !slices.ContainsFunc(h.Events(), func(e string) bool {
		return strings.Contains(e, "table/d.t failed (injected failure in commit 1); restarted")
	}) {
		t.Fatalf("no event says the writer restarted: %q", h.Events())
	}
}

func TestPartitionDecodePanicResumesFromDurableOffsets(t *testing.T) {
	var decodes atomic.Int32
	hooks := &actors.TestHooks{Decode: func(topic string, partition int32) {
		if decodes.Add(1) == 2 {
			panic("injected decode failure")
		}
	}}
	h := actortest.Start(t, hooks)
	c := h.RunConsumer(1, actortest.Topic{Name: "in", DBMS: "d", Table: "t"})
	for i := range 10 {
		h.Produce("in", messages(i*30, 30)...)
	}
	waitAllOnce(t, h, "d", "t", 300)
	cs := c.Status()
	if cs.Failures.Restarts < 1 || !strings.Contains(cs.Failures.LastError, "injected decode failure") {
		t.Fatalf("consumer status after a partition panic: %+v", cs.Failures)
	}
	h.WaitFor(30*time.Second, func() bool { return c.Status().State == "running" }, "consumer running again (%+v)", c.Status())
}

func TestRepeatedTableFailureStopsTheSubtreeAndSaysSo(t *testing.T) {
	hooks := &actors.TestHooks{Apply: func(table string) {
		if table == "d.bad" {
			panic("injected permanent failure")
		}
	}}
	h := actortest.Start(t, hooks)
	c := h.RunConsumer(1, actortest.Topic{Name: "in", DBMS: "d", Table: "bad"})
	// A message at a time, so that each restart of the writer has a batch
	// to fail.
	go func() {
		for i := range 40 {
			if c.Status().State == "stopped" {
				return
			}
			if err := produceOne(h, "in", i); err != nil {
				return
			}
		}
	}()
	h.WaitFor(90*time.Second, func() bool { return h.Tree.Catalog.Status()["d.bad"].Failures.Stopped }, "the writer of d.bad stopped after repeated failures (%+v)", h.Tree.Catalog.Status()["d.bad"])
	h.WaitFor(90*time.Second, func() bool { return c.Status().State == "stopped" }, "the consumer stopped after repeated failures (%+v)", c.Status())
	st := c.Status()
	if !strings.Contains(st.Detail, "failures in 1m0s") || st.Failures.Restarts <= 5 {
		t.Fatalf("consumer status: %+v", st)
	}
	if n := h.RowCount("d", "bad"); n != 0 {
		t.Fatalf("%d rows stored by a writer that always fails", n)
	}
}

func produceOne(h *actortest.Harness, topic string, v int) error {
	p, err := kafka.NewProducer([]string{h.Broker.Addr()}, kafka.Security{}, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.ProduceSync(ctx, kafka.Message{Topic: topic, Value: fmt.Appendf(nil, `{"v":%d}`, v)})
}

func TestAcksFlowWhileTheDeadLetterTopicHangs(t *testing.T) {
	dlqStarted := make(chan struct{})
	releaseDLQ := make(chan struct{})
	var once sync.Once
	var applies atomic.Int32
	var dlqMsgs atomic.Int32
	hooks := &actors.TestHooks{
		// The first commit waits until the dead-letter produce hangs, so
		// that its ack arrives while the partition waits for the produce.
		Apply: func(table string) {
			if table == "d.t" && applies.Add(1) == 1 {
				select {
				case <-dlqStarted:
				case <-time.After(30 * time.Second):
				}
			}
		},
		DLQ: func(ctx context.Context, msgs []kafka.Message) error {
			once.Do(func() { close(dlqStarted) })
			select {
			case <-releaseDLQ:
				dlqMsgs.Add(int32(len(msgs)))
				return nil
			case <-ctx.Done():
				return errors.New("dead-letter broker unreachable")
			}
		},
	}
	h := actortest.Start(t, hooks)
	c := h.RunConsumer(1, actortest.Topic{Name: "in", DBMS: "d", Table: "t", Errors: spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: "dead"}})
	key := []byte("one-partition")
	h.ProduceKeyed("in", key, messages(0, 20)...)
	h.WaitFor(30*time.Second, func() bool { return applies.Load() >= 1 }, "the first commit began")
	h.ProduceKeyed("in", key, []byte(`{"v":"not a number"}`))
	h.ProduceKeyed("in", key, messages(20, 20)...)
	select {
	case <-dlqStarted:
	case <-time.After(30 * time.Second):
		t.Fatal("the dead-letter produce never started")
	}
	// While the produce hangs, the first chunk's ack is handled: the
	// low-water mark passes the first 20 messages.
	h.WaitFor(30*time.Second, func() bool {
		for _, p := range c.Status().Partitions {
			if p.LowWater == 20 {
				return true
			}
		}
		return false
	}, "the ack of the first chunk handled while the dead-letter produce hangs (%+v)", c.Status().Partitions)
	if h.RowCount("d", "t") != 20 {
		t.Fatalf("%d rows before the dead-letter produce ended, want the first 20", h.RowCount("d", "t"))
	}
	close(releaseDLQ)
	h.WaitFor(30*time.Second, func() bool { return h.RowCount("d", "t") == 40 }, "every good message stored after the produce (have %d)", h.RowCount("d", "t"))
	if dlqMsgs.Load() != 1 {
		t.Fatalf("%d messages to the dead-letter topic, want 1", dlqMsgs.Load())
	}
}

func TestStopOrder(t *testing.T) {
	h := actortest.Start(t, nil)
	h.RunConsumer(2, actortest.Topic{Name: "in", DBMS: "d", Table: "t"})
	h.Produce("in", messages(0, 50)...)
	waitAllOnce(t, h, "d", "t", 50)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"consumer 1 stops fetching",
		"consumer 1 tables committed the batches in flight",
		"consumer 1 offsets committed",
		"tables flushed and stopped",
		"store closed",
	}
	got := h.StopTrace()
	at := 0
	for _, step := range got {
		if at < len(want) && step == want[at] {
			at++
		}
	}
	if at != len(want) {
		t.Fatalf("stop steps %q, want in order %q", got, want)
	}
}

func TestPeriodicJobSurvivesAPanicAndStops(t *testing.T) {
	h := actortest.Start(t, nil)
	var ticks atomic.Int32
	pid, err := h.Tree.StartPeriodic(actors.PeriodicSpec{Name: "scheduler-1", Every: 10 * time.Millisecond, Tick: func(ctx context.Context, now time.Time) {
		if ticks.Add(1) == 2 {
			panic("injected task failure")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.WaitFor(10*time.Second, func() bool { return ticks.Load() >= 5 }, "ticks go on after a panic (%d)", ticks.Load())
	if !slices.ContainsFunc(h.Events(), func(e string) bool { return strings.Contains(e, "scheduler-1: panic: injected task failure") }) {
		t.Fatalf("the panic is not reported: %q", h.Events())
	}
	h.Tree.StopJob(pid)
	n := ticks.Load()
	h.WaitFor(10*time.Second, func() bool {
		_, err := h.Tree.StartPeriodic(actors.PeriodicSpec{Name: "scheduler-1", Every: time.Hour, Tick: func(context.Context, time.Time) {}})
		return err == nil
	}, "the name is free again once the job stopped")
	if ticks.Load() > n+1 {
		t.Fatalf("%d ticks after the job stopped", ticks.Load()-n)
	}
}

func TestExportWorkerPanicIsReportedNotFatal(t *testing.T) {
	h := actortest.Start(t, &actors.TestHooks{Export: func(id int) {
		if id == 1 {
			panic("injected export failure")
		}
	}})
	done, err := h.Tree.Export(actors.ExportSpec{ID: 1, Brokers: []string{h.Broker.Addr()}, Topic: "out", Values: [][]byte{[]byte("x")}}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Err == nil || !strings.Contains(done.Err.Error(), "panic: injected export failure") || done.Sent != 0 {
		t.Fatalf("export answered %+v", done)
	}
	done, err = h.Tree.Export(actors.ExportSpec{ID: 2, Brokers: []string{h.Broker.Addr()}, Topic: "out", Values: [][]byte{[]byte("x")}}, 30*time.Second)
	if err != nil || done.Err != nil || done.Sent != 1 {
		t.Fatalf("a later export: %+v, %v", done, err)
	}
}

// A partition whose mapping cannot keep up holds at most the consumer's
// fetch budget (and one delivery past it) in memory: the poll loop waits,
// the backlog stays in Kafka, and once mapping resumes every message is
// stored once and the budget is given back.
func TestMappingBehindHoldsOnlyTheFetchBudget(t *testing.T) {
	release := make(chan struct{})
	var blocked atomic.Bool
	hooks := &actors.TestHooks{Decode: func(topic string, partition int32) {
		if blocked.CompareAndSwap(false, true) {
			<-release // the first delivery's mapping waits; the rest queue behind it
		}
	}}
	h := actortest.Start(t, hooks)
	const budget = 64 << 10
	h.FetchBudget = budget
	pad := strings.Repeat("x", 200)
	padded := func(from, n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = fmt.Appendf(nil, `{"v":%d,"pad":"%s"}`, from+i, pad)
		}
		return out
	}
	c := h.RunConsumer(1, actortest.Topic{Name: "in", DBMS: "d", Table: "t"})
	h.ProduceKeyed("in", []byte("k"), padded(0, 10)...)
	h.WaitFor(30*time.Second, blocked.Load, "the first delivery's mapping to start")
	// 20,000 messages of ~270 bytes (5.4 MB) while mapping is stuck.
	const batches, per = 40, 500
	for i := range batches {
		h.ProduceKeyed("in", []byte("k"), padded(10+i*per, per)...)
	}
	h.WaitFor(30*time.Second, func() bool { return c.Status().Fetch.Waits > 0 }, "the poll loop to wait for the budget (%+v)", c.Status().Fetch)
	// franz-go fetches at most 1 MiB of a partition at once: that is the
	// most one delivery can overshoot the budget by.
	held := c.Status().Fetch.Held
	t.Logf("mapping stuck: %d bytes held unmapped (budget %d), %d produced", held, budget, batches*per*270)
	if held > budget+1<<20 || held >= int64(batches*per*270) {
		t.Fatalf("mapping stuck: %d bytes held unmapped, budget %d", held, budget)
	}
	close(release)
	waitAllOnce(t, h, "d", "t", 10+batches*per)
	h.WaitFor(30*time.Second, func() bool { return c.Status().Fetch.Held == 0 }, "the budget given back (%+v)", c.Status().Fetch)
}
