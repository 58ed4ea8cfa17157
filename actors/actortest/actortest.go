// Package actortest runs the real actor tree in a test: an in-process
// Kafka-protocol broker (kfake; with LAKENODE_TEST_BROKER=apache an Apache
// Kafka broker of the test's own), a store in a temporary directory, and
// actors.SpawnTree, with helpers to produce messages, start consumers, wait
// for rows and stop everything in the node's order.
package actortest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/kafka/mapping"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// Broker is the harness's Kafka broker.
type Broker interface{ Addr() string }

// Harness is a running tree with its broker and store.
type Harness struct {
	t      testing.TB
	Broker Broker
	Store  *tables.Store
	Sys    *actor.ActorSystem
	Tree   *actors.Tree
	Hooks  *actors.TestHooks
	// FetchBudget, when set before RunConsumer, is the consumers' fetch
	// budget (ConsumerConfig.FetchBudget).
	FetchBudget int64

	closeBroker func()

	mu        sync.Mutex
	events    []string
	trace     []string
	consumers []*actors.ConsumerHandle
	nextID    int
	stopped   bool
}

// startBroker starts the test's broker: kfake in the process, or Apache
// Kafka when LAKENODE_TEST_BROKER=apache (its jars in LAKENODE_KAFKA_LIBS),
// which the test's cleanup stops.
func startBroker(t testing.TB) (Broker, func()) {
	t.Helper()
	if os.Getenv("LAKENODE_TEST_BROKER") == kafkatest.KindApache {
		return kafkatest.StartApache(t), func() {}
	}
	b, err := kafka.StartEmbedded("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	return b, b.Close
}

// Start starts a broker, a store and the tree; everything is stopped at the
// end of the test. hooks may be nil.
func Start(t testing.TB, hooks *actors.TestHooks) *Harness {
	t.Helper()
	b, closeBroker := startBroker(t)
	st, err := tables.Open(t.TempDir())
	if err != nil {
		closeBroker()
		t.Fatal(err)
	}
	h := &Harness{t: t, Broker: b, closeBroker: closeBroker, Store: st, Hooks: hooks}
	h.Sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	tree, err := actors.SpawnTree(h.Sys, actors.TreeConfig{
		Store:      st,
		Thresholds: func() actors.Thresholds { return actors.Thresholds{} },
		Events:     h.event,
		Hooks:      hooks,
		StopTrace:  h.traceStep,
	})
	if err != nil {
		_ = st.Close()
		closeBroker()
		t.Fatal(err)
	}
	h.Tree = tree
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Errorf("stopping the tree: %v", err)
		}
	})
	return h
}

func (h *Harness) event(kind, text string) {
	h.mu.Lock()
	h.events = append(h.events, kind+": "+text)
	h.mu.Unlock()
}

func (h *Harness) traceStep(step string) {
	h.mu.Lock()
	h.trace = append(h.trace, step)
	h.mu.Unlock()
}

// Events returns the event lines so far (error log and shell lines).
func (h *Harness) Events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// StopTrace returns the steps of the stop, in order.
func (h *Harness) StopTrace() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.trace)
}

// Produce sends values to topic and waits for their acknowledgement.
func (h *Harness) Produce(topic string, values ...[]byte) {
	h.t.Helper()
	h.ProduceKeyed(topic, nil, values...)
}

// ProduceKeyed sends values with one key (so to one partition) to topic and
// waits for their acknowledgement.
func (h *Harness) ProduceKeyed(topic string, key []byte, values ...[]byte) {
	h.t.Helper()
	p, err := kafka.NewProducer([]string{h.Broker.Addr()}, kafka.Security{}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Topic: topic, Key: key, Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.ProduceSync(ctx, msgs...); err != nil {
		h.t.Fatalf("producing to %s: %v", topic, err)
	}
}

// Topic is a topic a consumer maps into table dbms.table, with an int
// column v read from the message's "v" and the given error policy.
type Topic struct {
	Name, DBMS, Table string
	Errors            spec.ErrorPolicy
}

func bring(key string) spec.Expr {
	return spec.Expr{Kind: spec.ExprBring, Text: "bring [" + key + "]", Parts: []spec.BringPart{{Paths: [][]spec.PathStep{{{Key: key}}}}}}
}

// RunConsumer starts a consumer of topics from the earliest offset, with
// threads partitions decoding at once.
func (h *Harness) RunConsumer(threads int, topics ...Topic) *actors.ConsumerHandle {
	h.t.Helper()
	host, port, err := net.SplitHostPort(h.Broker.Addr())
	if err != nil {
		h.t.Fatal(err)
	}
	cs := spec.ConsumerSpec{IP: host, Port: port, Reset: "earliest", Threads: threads}
	maps := map[string]*mapping.Mapping{}
	for _, tp := range topics {
		ts := spec.TopicSpec{Name: tp.Name, DBMS: spec.Expr{Kind: spec.ExprLiteral, Literal: tp.DBMS}, Table: spec.Expr{Kind: spec.ExprLiteral, Literal: tp.Table},
			Columns: []spec.ColumnSpec{{Name: "v", Type: schema.TypeInt, Value: bring("v")}}, Errors: tp.Errors}
		m, err := mapping.Compile(ts)
		if err != nil {
			h.t.Fatal(err)
		}
		cs.Topics = append(cs.Topics, ts)
		maps[tp.Name] = m
	}
	h.mu.Lock()
	h.nextID++
	id := h.nextID
	h.mu.Unlock()
	cfg := actors.ConsumerConfig{
		ID: id, Spec: cs, Mappings: maps, Group: "actortest", InstanceID: "actortest-" + strconv.Itoa(id),
		SessionTimeout: 6 * time.Second, Store: h.Store, Catalog: h.Tree.Catalog, Logger: slog.New(slog.DiscardHandler), Events: h.event,
		FetchBudget: h.FetchBudget,
	}
	c, err := h.Tree.StartConsumer(cfg, 10*time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.consumers = append(h.consumers, c)
	h.mu.Unlock()
	return c
}

// Values returns the v column of every row of dbms.table, sorted.
func (h *Harness) Values(dbms, table string) []int64 {
	h.t.Helper()
	t, ok := h.Store.Table(dbms, table)
	if !ok {
		return nil
	}
	it, err := h.Store.Scan(context.Background(), t, tables.TimeRange{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = it.Close() }()
	idx := t.ColumnIndex("v")
	var out []int64
	for it.Next() {
		out = append(out, it.Row()[idx].I)
	}
	if err := it.Err(); err != nil {
		h.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// RowCount is the store's row counter of dbms.table (0 when it does not
// exist): a row applied twice counts twice even where its key is reused.
func (h *Harness) RowCount(dbms, table string) int64 {
	t, ok := h.Store.Table(dbms, table)
	if !ok {
		return 0
	}
	return h.Store.Stats(t).Rows
}

// WaitFor polls cond until it holds, failing the test after timeout.
func (h *Harness) WaitFor(timeout time.Duration, cond func() bool, format string, args ...any) {
	h.t.Helper()
	kafkatest.WaitFor(h.t, timeout, cond, format, args...)
}

// Stop stops the tree in the node's order: consumers stop fetching (their
// partitions drain, so the tables commit what is in flight, and offsets
// are committed), the tables flush and stop, the store closes. It is
// called at the end of the test; calling it earlier is fine.
func (h *Harness) Stop() error {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil
	}
	h.stopped = true
	cs := h.consumers
	h.mu.Unlock()
	var firstErr error
	for _, c := range cs {
		res, err := h.Sys.Root.RequestFuture(c.PID, &actors.StopConsumer{}, 60*time.Second).Result()
		if err == nil {
			if st, ok := res.(*actors.ConsumerStopped); ok && st.Err != nil {
				err = st.Err
			}
		}
		if err != nil && firstErr == nil && err != actor.ErrDeadLetter {
			firstErr = err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Tree.Stop(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	h.Sys.Shutdown()
	if err := h.Store.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	h.traceStep("store closed")
	h.closeBroker()
	return firstErr
}
