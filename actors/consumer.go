package actors

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/mapping"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables"
)

// maxInFlight is how many chunks a partition may have unacknowledged before
// it pauses fetching (backpressure); it resumes at half.
const maxInFlight = 8

// sessionCounter numbers partition actor incarnations; it starts at a random
// point so a restarted node never reuses a session a table still remembers.
var sessionCounter atomic.Uint64

func init() { sessionCounter.Store(rand.Uint64() >> 16) }

// ConsumerConfig is what a consumer actor needs.
type ConsumerConfig struct {
	ID         int // subscription id shown by `get msg client`
	Spec       spec.ConsumerSpec
	Mappings   map[string]*mapping.Mapping // by topic name
	Group      string
	InstanceID string
	// SessionTimeout of the group member (0: the kafka package's default).
	SessionTimeout time.Duration
	// Kafka is the TLS and SASL settings of every client of the consumer
	// (group, admin, dead-letter producer), resolved from Spec.Security.
	Kafka   kafka.Security
	Store   *tables.Store
	Catalog *Catalog
	Logger  *slog.Logger
	// Events receives lines for the error log and the shell (broker down,
	// policy stops); it must not block.
	Events func(kind, text string)
	// FetchBudget bounds the bytes of records fetched and not yet mapped
	// (0: DefaultFetchBudget); past it the consumer stops polling until
	// mapping catches up.
	FetchBudget int64
}

// ConsumerStatus is what `get processes` and `get msg client` show of a
// consumer.
type ConsumerStatus struct {
	State      string // starting, running, retrying, stopped, failed
	Detail     string
	Since      time.Time
	Partitions []PartitionCounters
	// Failures counts the consumer's restarts: of its Kafka client after a
	// partition failed, and of its actor after a panic.
	Failures FailureStatus
	// Fetch is what the consumer holds fetched and not yet mapped.
	Fetch FetchBudgetStatus
}

// consumerActor runs one `run kafka consumer`: it owns the franz-go client
// and supervises one partition actor per assigned partition. Strategy for
// its partitions: stopStrategy — a partition that fails is stopped, and
// the consumer restarts its client (so every partition) from the durable
// offsets, with backoff; after more than 5 client failures in a minute it
// stops consuming and shows "stopped" with the last error.
type consumerActor struct {
	cfg        ConsumerConfig
	tree       *Tree
	hooks      *TestHooks
	client     *kafka.Consumer
	cancel     context.CancelFunc
	bridge     *bridge
	status     *statusBox
	stopping   bool
	halted     bool // stopped after repeated failures; answers StopConsumer
	waiters    []chan error
	restarts   int  // client restarts since the last assignment (backoff)
	gen        int  // client generation, bumped by each startClient
	brokerDown bool // the health check found the broker unreachable
	dlq        *kafka.Producer
	permits    permitPool
	spawnSeq   int
	unwatch    func() // stops the disk space notifications
	// changedLogged is when each topic's change was last logged.
	changedLogged map[string]time.Time
}

type statusBox struct {
	mu     sync.Mutex
	state  string
	detail string
	since  time.Time
	bridge *bridge
	// fails are the times of the client's recent failures; failures the
	// counts shown.
	fails    []time.Time
	failures FailureStatus
	// budget bounds what the consumer holds fetched and not yet mapped,
	// across its clients' restarts.
	budget *fetchBudget
}

func (s *statusBox) set(state, detail string) {
	s.mu.Lock()
	if s.state != state {
		s.since = time.Now()
	}
	s.state, s.detail = state, detail
	s.mu.Unlock()
}

// fail records a client failure and reports whether there were more than
// maxFailures within failureWindow.
func (s *statusBox) fail(why string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.Restarts++
	s.failures.LastError, s.failures.LastAt = why, now
	s.fails = append(s.fails, now)
	for len(s.fails) > 0 && now.Sub(s.fails[0]) > failureWindow {
		s.fails = s.fails[1:]
	}
	return len(s.fails) > maxFailures
}

// ConsumerHandle lets the node read a consumer's status and stop it.
type ConsumerHandle struct {
	PID    *actor.PID
	Config ConsumerConfig
	status *statusBox
	tree   *Tree
}

// Status returns the consumer's state and its partitions' counters. A
// consumer with a partition stopped because its topic changed is in state
// "topic changed", its detail naming the partitions and their offsets.
func (h *ConsumerHandle) Status() ConsumerStatus {
	h.status.mu.Lock()
	st := ConsumerStatus{State: h.status.state, Detail: h.status.detail, Since: h.status.since, Failures: h.status.failures, Fetch: h.status.budget.status()}
	b := h.status.bridge
	h.status.mu.Unlock()
	if h.tree != nil {
		af := h.tree.Failures(h.PID)
		st.Failures.Restarts += af.Restarts
		if af.LastAt.After(st.Failures.LastAt) {
			st.Failures.LastError, st.Failures.LastAt = af.LastError, af.LastAt
		}
		if af.Stopped {
			st.Failures.Stopped = true
			st.State, st.Detail = "stopped", "stopped after repeated failures: "+af.LastError
		}
	}
	if b != nil && st.State != "stopped" {
		st.Partitions = b.counters()
	}
	changedState(&st)
	return st
}

// Behind reports whether the consumer is behind its topics: one of its
// partitions' last batch that became visible after since held a record
// produced more than over before (by the record's timestamp). Cheap: no
// percentiles are computed.
func (h *ConsumerHandle) Behind(over time.Duration, since time.Time) bool {
	h.status.mu.Lock()
	b := h.status.bridge
	h.status.mu.Unlock()
	return b != nil && b.behind(over, since)
}

// changedState shows a consumer with a partition stopped because its topic
// changed as in state "topic changed".
func changedState(st *ConsumerStatus) {
	var parts []string
	var topics []string
	for _, p := range st.Partitions {
		if p.Changed == "" {
			continue
		}
		if !slices.Contains(topics, p.Topic) {
			topics = append(topics, p.Topic)
		}
		if len(parts) < 3 {
			parts = append(parts, fmt.Sprintf("%s[%d]: %s", p.Topic, p.Partition, p.Changed))
		} else if len(parts) == 3 {
			parts = append(parts, "...")
		}
	}
	if len(parts) > 0 && st.State != "stopped" {
		st.State = "topic changed"
		st.Detail = strings.Join(parts, "; ") + "; " + resetHint(strings.Join(topics, ", "))
	}
}

// StopConsumer asks a consumer to stop: flush, store offsets, leave the
// group (when Leave). The reply is the error, if any.
type StopConsumer struct {
	Leave bool
}

// ConsumerStopped answers StopConsumer.
type ConsumerStopped struct{ Err error }

// RefreshWatermarks asks the consumer to read its topics' high watermarks.
type RefreshWatermarks struct{}

type spawnPartitions struct {
	tps  []kafka.TopicPartition
	srcs map[string]uint32
}

type spawned struct {
	pids map[kafka.TopicPartition]*actor.PID
}

type clientClosed struct{ err error }

// spaceChanged says the data dir's disk went below --min-free (full) or
// has room again.
type spaceChanged struct{ full bool }
type brokerHealth struct{ err error }
type restartClient struct{}
type partitionBroken struct {
	tp  kafka.TopicPartition
	err error
	gen int // the client generation it concerns; stale ones are ignored
}

// topicChanged says a partition cannot go on without skipping or
// re-reading records: its topic was re-created or its stored offset lies
// outside the log. The partition stops until an operator resets it.
type topicChanged struct {
	tp  kafka.TopicPartition
	why string
	gen int
}

// changedLogEvery bounds how often a consumer logs that a topic changed.
const changedLogEvery = time.Minute

type partitionStopped struct {
	tp      kafka.TopicPartition
	failure policyFailure
}

// spawnConsumer starts a consumer actor under the consumers supervisor.
func spawnConsumer(parent actor.SpawnerContext, tree *Tree, cfg ConsumerConfig) (*ConsumerHandle, error) {
	box := &statusBox{state: "starting", since: time.Now(), budget: newFetchBudget(cfg.FetchBudget)}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &consumerActor{cfg: cfg, tree: tree, hooks: tree.cfg.Hooks, status: box}
	}, actor.WithSupervisor(&stopStrategy{log: tree.failures, what: "stopped; its consumer restarts from the durable offsets"}))
	pid, err := parent.SpawnNamed(props, "consumer-"+strconv.Itoa(cfg.ID))
	if err != nil {
		return nil, fmt.Errorf("starting consumer %d: %w", cfg.ID, err)
	}
	return &ConsumerHandle{PID: pid, Config: cfg, status: box, tree: tree}, nil
}

func (a *consumerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.started(ctx)
	case *actor.Restarting:
		// This instance is replaced after a panic: release its client (the
		// new instance starts its own from the durable offsets).
		a.release()
		a.status.set("retrying", "restarted after a failure")
	case *actor.Stopping:
		a.release()
		if !a.stopping {
			a.status.set("stopped", "stopped after repeated failures")
		}
	case *spawnPartitions:
		ctx.Respond(a.spawnPartitions(ctx, m))
	case *permitRequest:
		a.permits.request(ctx, m.pid)
	case *permitRelease:
		a.permits.release(ctx, m.pid)
	case *partitionBroken:
		if a.bridge == nil || a.client == nil || m.gen != a.gen {
			return // already restarting, or about an earlier client
		}
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: %v; restarting from the last durable offsets", a.cfg.ID, m.err))
		a.restart(ctx, m.err.Error())
	case *topicChanged:
		a.topicChanged(ctx, m)
	case *partitionStopped:
		a.partitionStopped(m)
	case spaceChanged:
		a.spaceChanged(ctx, m)
	case *actor.Terminated:
		a.permits.gone(ctx, m.Who)
		// A partition actor that stops on its own (a panic) loses its
		// in-flight state: restart from the durable offsets.
		if !a.stopping && a.bridge != nil && a.bridge.drop(m.Who) {
			a.restart(ctx, "a partition actor failed: "+a.tree.failures.get(m.Who.Id).LastError)
		}
	case *StopConsumer:
		a.stop(ctx, m)
	case *clientClosed:
		a.clientClosed(ctx, m)
	case restartClient:
		if !a.stopping && !a.halted && a.client == nil {
			a.startClient(ctx)
		}
	case *RefreshWatermarks:
		a.refreshWatermarks(ctx)
	case *brokerHealth:
		a.brokerHealth(m)
	}
}

func (a *consumerActor) started(ctx actor.Context) {
	a.permits = permitPool{free: max(a.cfg.Spec.Threads, 1), holders: map[string]bool{}}
	self, sys := ctx.Self(), ctx.ActorSystem()
	a.unwatch = a.cfg.Store.Space().Watch(func(full bool) { sys.Root.Send(self, spaceChanged{full: full}) })
	a.startClient(ctx)
	ctx.Send(ctx.Self(), &RefreshWatermarks{})
}

// release closes what this instance holds (off its goroutine: closing runs
// the revoke callback, which waits for partition actors); its partition
// actors are stopped with it.
func (a *consumerActor) release() {
	a.stopWatching()
	if a.client != nil {
		client, cancel := a.client, a.cancel
		a.client = nil
		go func() {
			cancel()
			c, done := context.WithTimeout(context.Background(), 30*time.Second)
			defer done()
			_ = client.Close(c, false)
		}()
	}
	if a.dlq != nil && !a.stopping {
		a.dlq.Close()
		a.dlq = nil
	}
}

func (a *consumerActor) topicChanged(ctx actor.Context, m *topicChanged) {
	if a.bridge == nil || m.gen != a.gen {
		return
	}
	pi := a.bridge.get(m.tp)
	if pi == nil {
		return
	}
	ctx.Send(pi.pid, m)
	if a.changedLogged == nil {
		a.changedLogged = map[string]time.Time{}
	}
	if last, ok := a.changedLogged[m.tp.Topic]; !ok || time.Since(last) >= changedLogEvery {
		a.changedLogged[m.tp.Topic] = time.Now()
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: topic changed: %s: %s; partition stopped, nothing skipped or re-read; %s",
			a.cfg.ID, m.tp, m.why, resetHint(m.tp.Topic)))
	}
}

func (a *consumerActor) partitionStopped(m *partitionStopped) {
	text := fmt.Sprintf("consumer %d stopped %s at offset %d (errors = fail): %s: %s; run `exit kafka` and start the consumer again with another errors policy to resume there",
		a.cfg.ID, m.tp, m.failure.offset, m.failure.reason, m.failure.detail)
	a.cfg.Events("kafka", text)
	if a.client != nil {
		a.client.PauseTopic(m.tp.Topic)
	}
	a.status.set("failed", text)
}

// spaceChanged pauses every partition on a full disk, also one that has
// nothing to fetch; each one resumes by itself once a check finds room.
func (a *consumerActor) spaceChanged(ctx actor.Context, m spaceChanged) {
	if a.bridge == nil {
		return
	}
	var msg any = spaceCheck{}
	if m.full {
		msg = diskFull{}
	}
	for _, pid := range a.bridge.pids() {
		ctx.Send(pid, msg)
	}
}

func (a *consumerActor) stop(ctx actor.Context, m *StopConsumer) {
	a.stopping = true
	w := make(chan error, 1)
	a.waiters = append(a.waiters, w)
	sys := ctx.ActorSystem()
	if sender := ctx.Sender(); sender != nil {
		go func() { sys.Root.Send(sender, &ConsumerStopped{Err: <-w}) }()
	}
	if a.client == nil {
		ctx.Send(ctx.Self(), &clientClosed{})
		return
	}
	a.closeClient(ctx, m.Leave)
}

func (a *consumerActor) clientClosed(ctx actor.Context, m *clientClosed) {
	a.client, a.cancel = nil, nil
	a.stopPartitions(ctx)
	a.tree.trace(fmt.Sprintf("consumer %d offsets committed", a.cfg.ID))
	if a.stopping {
		if a.dlq != nil {
			a.dlq.Close()
			a.dlq = nil
		}
		a.status.set("stopped", "")
		for _, w := range a.waiters {
			w <- m.err
		}
		ctx.Stop(ctx.Self())
		return
	}
	if a.halted {
		return
	}
	a.restarts++
	wait := min(time.Duration(a.restarts)*time.Second, 10*time.Second)
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(wait, func() { sys.Root.Send(self, restartClient{}) })
}

func (a *consumerActor) refreshWatermarks(ctx actor.Context) {
	if !a.stopping {
		self, sys := ctx.Self(), ctx.ActorSystem()
		time.AfterFunc(2*time.Second, func() { sys.Root.Send(self, &RefreshWatermarks{}) })
	}
	if a.client == nil || a.bridge == nil {
		return
	}
	client, b := a.client, a.bridge
	topics := make([]string, 0, len(a.cfg.Spec.Topics))
	for _, t := range a.cfg.Spec.Topics {
		topics = append(topics, t.Name)
	}
	self, sys := ctx.Self(), ctx.ActorSystem()
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// The low-water marks are taken before the read: a mark beyond a
		// high watermark read after it is a topic that changed, never
		// records consumed in between.
		lwms := b.lowWaters()
		ids, idErr := client.CurrentIdentities(c, topics...)
		at := time.Now()
		hw, err := client.HighWatermarks(c, topics...)
		if err == nil {
			b.setHighWatermarks(hw, at)
			if idErr != nil {
				ids = nil
			}
			b.checkTopics(ids, hw, lwms)
		}
		sys.Root.Send(self, &brokerHealth{err: err})
	}()
}

// brokerHealth: the periodic watermark read doubles as a broker health
// check, so a broker that never answered shows too (the group client alone
// retries silently).
func (a *consumerActor) brokerHealth(m *brokerHealth) {
	a.status.mu.Lock()
	state := a.status.state
	a.status.mu.Unlock()
	switch {
	case m.err != nil && (state == "running" || state == "starting"):
		text := fmt.Sprintf("broker %s unreachable: %v", a.cfg.Spec.Broker(), m.err)
		a.status.set("retrying", text)
		a.brokerDown = true
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: %s (retrying with backoff)", a.cfg.ID, text))
	case m.err == nil && a.brokerDown && state == "retrying":
		a.brokerDown = false
		a.status.set("running", "consuming from "+a.cfg.Spec.Broker())
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: broker %s answers again", a.cfg.ID, a.cfg.Spec.Broker()))
	}
}

func (a *consumerActor) stopWatching() {
	if a.unwatch != nil {
		a.unwatch()
		a.unwatch = nil
	}
}

func (a *consumerActor) startClient(ctx actor.Context) {
	topics := make([]string, 0, len(a.cfg.Spec.Topics))
	for _, t := range a.cfg.Spec.Topics {
		topics = append(topics, t.Name)
	}
	a.gen++
	b := &bridge{gen: a.gen, sys: ctx.ActorSystem(), consumer: ctx.Self(), store: a.cfg.Store, parts: make(map[kafka.TopicPartition]*partInfo), status: a.status, events: a.cfg.Events, id: a.cfg.ID, trace: a.tree.trace}
	client, err := kafka.NewConsumer(kafka.ConsumerConfig{
		Brokers:        []string{a.cfg.Spec.Broker()},
		Group:          a.cfg.Group,
		InstanceID:     a.cfg.InstanceID,
		Topics:         topics,
		SessionTimeout: a.cfg.SessionTimeout,
		Reset:          a.cfg.Spec.Reset,
		Handler:        b,
		Logger:         a.cfg.Logger,
		Security:       a.cfg.Kafka,
	})
	if err != nil {
		a.status.set("retrying", err.Error())
		a.restart(ctx, err.Error())
		return
	}
	a.client, a.bridge = client, b
	b.client = client
	a.status.mu.Lock()
	a.status.bridge = b
	a.status.mu.Unlock()
	a.status.set("running", "connecting to "+a.cfg.Spec.Broker())
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	b.runCtx = runCtx
	go func() { _ = client.Run(runCtx) }()
}

// restart closes the client without leaving the group; clientClosed then
// schedules a new client, which resumes from the low-water marks.
func (a *consumerActor) restart(ctx actor.Context, why string) {
	if a.halted {
		return
	}
	if a.status.fail(why) {
		// Repeated failure: stop this consumer's subtree (client and
		// partitions) and say so; `exit kafka` and a new run start over.
		a.halted = true
		text := fmt.Sprintf("stopped after more than %d failures in %v; last: %s; run `exit kafka` and start the consumer again", maxFailures, failureWindow, why)
		a.status.set("stopped", text)
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d %s", a.cfg.ID, text))
	} else {
		a.status.set("retrying", why)
	}
	if a.client == nil {
		ctx.Send(ctx.Self(), &clientClosed{})
		return
	}
	a.closeClient(ctx, false)
}

// closeClient closes the client off the actor's goroutine: closing runs the
// revoke callback, which waits for this actor's partition actors.
func (a *consumerActor) closeClient(ctx actor.Context, leave bool) {
	client, cancel := a.client, a.cancel
	a.client = nil
	a.tree.trace(fmt.Sprintf("consumer %d stops fetching", a.cfg.ID))
	self, sys := ctx.Self(), ctx.ActorSystem()
	go func() {
		cancel()
		c, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		err := client.Close(c, leave)
		sys.Root.Send(self, &clientClosed{err: err})
	}()
}

func (a *consumerActor) stopPartitions(ctx actor.Context) {
	if a.bridge == nil {
		return
	}
	for _, pid := range a.bridge.takeAll() {
		ctx.Stop(pid)
	}
}

func (a *consumerActor) spawnPartitions(ctx actor.Context, m *spawnPartitions) *spawned {
	out := &spawned{pids: make(map[kafka.TopicPartition]*actor.PID)}
	if a.stopping {
		return out
	}
	a.restarts = 0
	if a.dlq == nil {
		for _, t := range a.cfg.Spec.Topics {
			if t.Errors.Kind == spec.ErrorsDLQ {
				p, err := kafka.NewProducer([]string{a.cfg.Spec.Broker()}, a.cfg.Kafka, a.cfg.Logger)
				if err == nil {
					a.dlq = p
				}
				break
			}
		}
	}
	for _, tp := range m.tps {
		pid, ok := a.spawnPartition(ctx, tp, m.srcs[tp.Topic])
		if ok {
			out.pids[tp] = pid
		}
	}
	return out
}

// mappingSource is a topic's compiled mapping and error policy.
type mappingSource struct {
	m      *mapping.Mapping
	policy spec.ErrorPolicy
}

// spawnPartition starts the partition actor of tp.
func (a *consumerActor) spawnPartition(ctx actor.Context, tp kafka.TopicPartition, src uint32) (*actor.PID, bool) {
	var ts spec.TopicSpec
	for _, t := range a.cfg.Spec.Topics {
		if t.Name == tp.Topic {
			ts = t
		}
	}
	mp := a.cfg.Mappings[tp.Topic]
	if mp == nil {
		return nil, false
	}
	stats := newPartitionStats(tp.Topic, tp.Partition)
	catalog := a.cfg.Catalog
	pc := partitionConfig{
		gen: a.gen, tp: tp, src: src, consumerID: strconv.Itoa(a.cfg.ID),
		mapping: mappingSource{m: mp, policy: ts.Errors},
		resolver: func() *resolver {
			return &resolver{catalog: catalog, cols: mp.Columns(), cache: make(map[string]*tableTarget)}
		},
		client: a.client, store: a.cfg.Store, permits: ctx.Self(), dlqTopic: ts.Errors.DLQTopic,
		hooks: a.hooks, stats: stats,
	}
	switch {
	case a.hooks != nil && a.hooks.DLQ != nil:
		pc.dlqSend = a.hooks.DLQ
	case a.dlq != nil:
		dlq := a.dlq
		pc.dlqSend = func(c context.Context, msgs []kafka.Message) error { return dlq.ProduceSync(c, msgs...) }
	}
	a.spawnSeq++
	pid, err := ctx.SpawnNamed(newPartitionProps(pc), fmt.Sprintf("p-%s-%d-%d", tp.Topic, tp.Partition, a.spawnSeq))
	if err != nil {
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: starting partition %s: %v", a.cfg.ID, tp, err))
		return nil, false
	}
	a.bridge.add(tp, &partInfo{pid: pid, src: src, stats: stats, flow: a.status.budget.flow()})
	if a.cfg.Store.Space().Status().Full {
		ctx.Send(pid, diskFull{})
	}
	return pid, true
}

// permitRequest asks the consumer for a decode permit; permitGrant answers
// it once one is free; permitRelease gives it back. They cap how many of
// the consumer's partitions map records at once (EdgeLake's threads = N)
// without any actor waiting in its Receive.
type permitRequest struct{ pid *actor.PID }
type permitGrant struct{}
type permitRelease struct{ pid *actor.PID }

// permitPool is the consumer's decode permits.
type permitPool struct {
	free    int
	waiting []*actor.PID
	holders map[string]bool // PID id -> holds a permit
}

func (p *permitPool) request(ctx actor.Context, pid *actor.PID) {
	if !slices.ContainsFunc(ctx.Children(), pid.Equal) {
		// Its Terminated (a system message) overtook the request: a grant
		// would never come back.
		return
	}
	if p.free > 0 {
		p.free--
		p.holders[pid.Id] = true
		ctx.Send(pid, &permitGrant{})
		return
	}
	p.waiting = append(p.waiting, pid)
}

func (p *permitPool) release(ctx actor.Context, pid *actor.PID) {
	if !p.holders[pid.Id] {
		return
	}
	delete(p.holders, pid.Id)
	p.free++
	p.next(ctx)
}

func (p *permitPool) next(ctx actor.Context) {
	for p.free > 0 && len(p.waiting) > 0 {
		pid := p.waiting[0]
		p.waiting = p.waiting[1:]
		p.free--
		p.holders[pid.Id] = true
		ctx.Send(pid, &permitGrant{})
	}
}

// gone returns the permit of a stopped partition actor and drops its
// request.
func (p *permitPool) gone(ctx actor.Context, pid *actor.PID) {
	p.waiting = slices.DeleteFunc(p.waiting, func(w *actor.PID) bool { return w.Equal(pid) })
	p.release(ctx, pid)
}
