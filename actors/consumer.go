package actors

import (
	"context"
	"errors"
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
	"github.com/lakenode/lakenode/tables/schema"
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
}

// ConsumerStatus is what `get processes` and `get msg client` show of a
// consumer.
type ConsumerStatus struct {
	State      string // starting, running, retrying, stopped, failed
	Detail     string
	Since      time.Time
	Partitions []PartitionCounters
}

// consumerActor runs one `run kafka consumer`: it owns the franz-go client
// and supervises one partition actor per assigned partition.
type consumerActor struct {
	cfg        ConsumerConfig
	client     *kafka.Consumer
	cancel     context.CancelFunc
	bridge     *bridge
	status     *statusBox
	stopping   bool
	waiters    []chan error
	restarts   int
	gen        int  // client generation, bumped by each startClient
	brokerDown bool // the health check found the broker unreachable
	dlq        *kafka.Producer
	sem        chan struct{}
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
}

func (s *statusBox) set(state, detail string) {
	s.mu.Lock()
	if s.state != state {
		s.since = time.Now()
	}
	s.state, s.detail = state, detail
	s.mu.Unlock()
}

// ConsumerHandle lets the node read a consumer's status and stop it.
type ConsumerHandle struct {
	PID    *actor.PID
	Config ConsumerConfig
	status *statusBox
}

// Status returns the consumer's state and its partitions' counters. A
// consumer with a partition stopped because its topic changed is in state
// "topic changed", its detail naming the partitions and their offsets.
func (h *ConsumerHandle) Status() ConsumerStatus {
	h.status.mu.Lock()
	st := ConsumerStatus{State: h.status.state, Detail: h.status.detail, Since: h.status.since}
	b := h.status.bridge
	h.status.mu.Unlock()
	if b != nil {
		st.Partitions = b.counters()
	}
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
	return st
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

// SpawnConsumer starts a consumer actor under parent (a node root context).
func SpawnConsumer(parent actor.SpawnerContext, cfg ConsumerConfig) (*ConsumerHandle, error) {
	box := &statusBox{state: "starting", since: time.Now()}
	props := actor.PropsFromProducer(func() actor.Actor {
		return &consumerActor{cfg: cfg, status: box}
	}, actor.WithSupervisor(actor.NewOneForOneStrategy(0, time.Second, func(any) actor.Directive { return actor.StopDirective })))
	pid, err := parent.SpawnNamed(props, "consumer-"+strconv.Itoa(cfg.ID))
	if err != nil {
		return nil, fmt.Errorf("starting consumer %d: %w", cfg.ID, err)
	}
	return &ConsumerHandle{PID: pid, Config: cfg, status: box}, nil
}

func (a *consumerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		threads := max(a.cfg.Spec.Threads, 1)
		a.sem = make(chan struct{}, threads)
		self, sys := ctx.Self(), ctx.ActorSystem()
		a.unwatch = a.cfg.Store.Space().Watch(func(full bool) { sys.Root.Send(self, spaceChanged{full: full}) })
		a.startClient(ctx)
		ctx.Send(ctx.Self(), &RefreshWatermarks{})
	case *actor.Restarting:
		// This instance is replaced after a panic: release its client (the
		// new instance starts its own from the durable offsets).
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
		a.status.set("retrying", "restarted after a failure")
	case *spawnPartitions:
		ctx.Respond(a.spawnPartitions(ctx, m))
	case *partitionBroken:
		if a.bridge == nil || a.client == nil || m.gen != a.gen {
			return // already restarting, or about an earlier client
		}
		a.cfg.Events("kafka", fmt.Sprintf("consumer %d: %v; restarting from the last durable offsets", a.cfg.ID, m.err))
		a.restart(ctx, m.err.Error())
	case *topicChanged:
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
	case *partitionStopped:
		text := fmt.Sprintf("consumer %d stopped %s at offset %d (errors = fail): %s: %s; run `exit kafka` and start the consumer again with another errors policy to resume there",
			a.cfg.ID, m.tp, m.failure.offset, m.failure.reason, m.failure.detail)
		a.cfg.Events("kafka", text)
		if a.client != nil {
			a.client.PauseTopic(m.tp.Topic)
		}
		a.status.set("failed", text)
	case *actor.Stopped:
		a.stopWatching()
	case spaceChanged:
		// Every partition pauses on a full disk, also one that has nothing
		// to fetch; each one resumes by itself once a check finds room.
		if a.bridge != nil {
			var msg any = spaceCheck{}
			if m.full {
				msg = diskFull{}
			}
			for _, pid := range a.bridge.pids() {
				ctx.Send(pid, msg)
			}
		}
	case *actor.Terminated:
		// A partition actor that stops on its own (a panic) loses its
		// in-flight state: restart from the durable offsets.
		if !a.stopping && a.bridge != nil && a.bridge.owns(m.Who) {
			a.restart(ctx, "a partition actor stopped unexpectedly")
		}
	case *StopConsumer:
		a.stopping = true
		a.waiters = append(a.waiters, make(chan error, 1))
		w := a.waiters[len(a.waiters)-1]
		self := ctx.Self()
		sys := ctx.ActorSystem()
		if sender := ctx.Sender(); sender != nil {
			go func() { sys.Root.Send(sender, &ConsumerStopped{Err: <-w}) }()
		}
		if a.client == nil {
			sys.Root.Send(self, &clientClosed{})
			return
		}
		a.closeClient(ctx, m.Leave)
	case *clientClosed:
		a.client, a.cancel = nil, nil
		a.stopPartitions(ctx)
		if a.stopping {
			if a.dlq != nil {
				a.dlq.Close()
			}
			a.status.set("stopped", "")
			for _, w := range a.waiters {
				w <- m.err
			}
			ctx.Stop(ctx.Self())
			return
		}
		a.restarts++
		wait := min(time.Duration(a.restarts)*time.Second, 10*time.Second)
		self, sys := ctx.Self(), ctx.ActorSystem()
		time.AfterFunc(wait, func() { sys.Root.Send(self, restartClient{}) })
	case restartClient:
		if !a.stopping && a.client == nil {
			a.startClient(ctx)
		}
	case *RefreshWatermarks:
		if !a.stopping {
			self, sys := ctx.Self(), ctx.ActorSystem()
			time.AfterFunc(2*time.Second, func() { sys.Root.Send(self, &RefreshWatermarks{}) })
		}
		if a.client != nil && a.bridge != nil {
			client, b := a.client, a.bridge
			topics := make([]string, 0, len(a.cfg.Spec.Topics))
			for _, t := range a.cfg.Spec.Topics {
				topics = append(topics, t.Name)
			}
			self, sys := ctx.Self(), ctx.ActorSystem()
			go func() {
				c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				// The low-water marks are taken before the read: a mark
				// beyond a high watermark read after it is a topic that
				// changed, never records consumed in between.
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
	case *brokerHealth:
		// The periodic watermark read doubles as a broker health check, so
		// a broker that never answered shows too (the group client alone
		// retries silently).
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
	b := &bridge{gen: a.gen, sys: ctx.ActorSystem(), consumer: ctx.Self(), store: a.cfg.Store, parts: make(map[kafka.TopicPartition]*partInfo), status: a.status, events: a.cfg.Events, id: a.cfg.ID}
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
	go func() { _ = client.Run(runCtx) }()
}

// restart closes the client without leaving the group; clientClosed then
// schedules a new client, which resumes from the low-water marks.
func (a *consumerActor) restart(ctx actor.Context, why string) {
	a.status.set("retrying", why)
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
	consumerID := strconv.Itoa(a.cfg.ID)
	for _, tp := range m.tps {
		var ts spec.TopicSpec
		for _, t := range a.cfg.Spec.Topics {
			if t.Name == tp.Topic {
				ts = t
			}
		}
		mp := a.cfg.Mappings[tp.Topic]
		if mp == nil {
			continue
		}
		stats := newPartitionStats(tp.Topic, tp.Partition)
		core := newPartitionCore(tp, m.srcs[tp.Topic], sessionCounter.Add(1))
		core.consumerID = consumerID
		core.ev = mp.NewEvaluator()
		core.policy = ts.Errors
		core.stats = stats
		res := &resolver{catalog: a.cfg.Catalog, cols: mp.Columns(), cache: make(map[string]*tableTarget)}
		core.resolve = res.resolve
		core.errTarget = res.errorTable
		pa := &partitionActor{gen: a.gen, core: core, client: a.client, store: a.cfg.Store, sem: a.sem, dlq: a.dlq, dlqTopic: ts.Errors.DLQTopic}
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return pa }), fmt.Sprintf("p-%s-%d-%d", tp.Topic, tp.Partition, core.session))
		if err != nil {
			a.cfg.Events("kafka", fmt.Sprintf("consumer %d: starting partition %s: %v", a.cfg.ID, tp, err))
			continue
		}
		out.pids[tp] = pid
		a.bridge.add(tp, &partInfo{pid: pid, src: m.srcs[tp.Topic], stats: stats})
		if a.cfg.Store.Space().Status().Full {
			ctx.Send(pid, diskFull{})
		}
	}
	return out
}

// resolver caches a partition's table targets.
type resolver struct {
	catalog *Catalog
	cols    []schema.Column
	cache   map[string]*tableTarget
	errT    *tableTarget
}

func (r *resolver) resolve(dbms, table string) (*tableTarget, error) {
	key := dbms + "." + table
	if t := r.cache[key]; t != nil {
		return t, nil
	}
	t, err := r.target(dbms, table, r.cols)
	if err != nil {
		return nil, err
	}
	r.cache[key] = t
	return t, nil
}

func (r *resolver) errorTable() (*tableTarget, error) {
	if r.errT != nil {
		return r.errT, nil
	}
	t, err := r.target(tables.ErrorsDBMS, tables.ErrorsTable, tables.ErrorTableColumns)
	if err != nil {
		return nil, err
	}
	r.errT = t
	return t, nil
}

func (r *resolver) target(dbms, table string, cols []schema.Column) (*tableTarget, error) {
	t, e, err := r.catalog.Target(dbms, table, cols)
	if err != nil {
		return nil, err
	}
	perm := make([]int, len(cols))
	for i, c := range cols {
		idx := t.ColumnIndex(c.Name)
		if idx < schema.NumSystemColumns {
			return nil, fmt.Errorf("table %s has no user column %s", t.FullName(), c.Name)
		}
		perm[i] = idx - schema.NumSystemColumns
	}
	pid, sys := e.PID, r.catalog.sys
	return &tableTarget{
		key: t.FullName(), table: t, perm: perm, nUser: len(t.Columns) - schema.NumSystemColumns,
		send: func(b *RowBatch) { sys.Root.Send(pid, b) },
	}, nil
}

// partitionActor wraps a partitionCore.
type partitionActor struct {
	gen      int
	core     *partitionCore
	client   *kafka.Consumer
	store    *tables.Store
	sem      chan struct{}
	dlq      *kafka.Producer
	dlqTopic string
	paused   bool // backpressure: too many chunks unacknowledged
	broken   bool
	stopped  bool // errors = fail stopped it; reported once
	changed  bool // its topic changed under it: paused until a reset
	drains   []chan struct{}

	// diskFull: the data dir's disk is below --min-free, so deliveries are
	// held (not mapped: mapping may create tables) and fetching is paused
	// until a check finds room again.
	diskFull    bool
	held        []*deliver
	checking    bool // a spaceCheck is scheduled
	fetchPaused bool // what the client was last told
}

type deliver struct{ recs []kafka.Record }

// diskFull pauses a partition for a full disk; spaceCheck looks whether
// there is room again.
type diskFull struct{}
type spaceCheck struct{}

// spaceCheckEvery is how often a partition paused for a full disk checks
// for room.
const spaceCheckEvery = 250 * time.Millisecond

type startAt struct {
	offset int64
	store  bool // a resolved reset position: store it as the low-water mark
}
type drain struct{ done chan struct{} }

func (p *partitionActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case startAt:
		p.core.startAt(m.offset)
		if m.offset >= 0 {
			p.core.stats.setLowWater(m.offset)
		}
		if m.store && m.offset >= 0 {
			if err := p.store.SetLowWater(p.core.src, p.core.tp.Partition, m.offset); err != nil {
				p.broken = true
				ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: fmt.Errorf("storing the start offset: %w", err)})
			}
		}
	case *topicChanged:
		if p.changed {
			return
		}
		p.changed = true
		p.syncFetch()
		hw := "unknown"
		if c := p.core.stats.Snapshot(); c.HighWatermark >= 0 {
			hw = strconv.FormatInt(c.HighWatermark, 10)
		}
		p.core.stats.setChanged(fmt.Sprintf("%s; stored offset %d, high watermark %s", m.why, p.core.lwm, hw))
	case *deliver:
		if p.broken || p.changed {
			// Not mapped and not marked: read again after a reset or a
			// restart, if the operator's reset keeps them.
			return
		}
		if p.diskFull || len(p.held) > 0 || p.store.Space().Check() != nil {
			p.held = append(p.held, m)
			p.pauseForDisk(ctx)
			return
		}
		p.handle(ctx, m)
	case diskFull:
		if !p.broken {
			p.pauseForDisk(ctx)
		}
	case spaceCheck:
		p.checking = false
		if p.broken || !p.diskFull {
			return
		}
		if p.store.Space().Check() != nil {
			p.scheduleCheck(ctx)
			return
		}
		p.resumeAfterDisk(ctx)
	case *BatchAck:
		if p.broken {
			return
		}
		moved, err := p.core.ack(m)
		if err != nil {
			p.broken = true
			ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: err})
			p.checkDrained()
			return
		}
		if moved {
			if err := p.store.SetLowWater(p.core.src, p.core.tp.Partition, p.core.lwm); err != nil {
				p.broken = true
				ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: fmt.Errorf("storing the low-water mark: %w", err)})
				p.checkDrained()
				return
			}
			p.client.MarkCommit(p.core.tp, p.core.lwm)
		}
		p.backpressure()
		p.checkDrained()
	case drain:
		p.drains = append(p.drains, m.done)
		if p.core.inFlight() > 0 && (p.diskFull || p.store.Space().Check() != nil) {
			// The tables cannot commit on a full disk: give up the batches
			// in flight and the held deliveries. The low-water mark stays
			// before them, so they are consumed again; a table that
			// commits them later skips them then by its own offsets.
			p.broken = true
			p.held = nil
		}
		p.checkDrained()
	}
}

// handle maps a delivery and sends its batches to the tables.
func (p *partitionActor) handle(ctx actor.Context, m *deliver) {
	p.sem <- struct{}{}
	batches, dlq := p.core.process(m.recs)
	<-p.sem
	if len(dlq) > 0 && !p.sendDLQ(ctx, dlq) {
		return
	}
	for _, b := range batches {
		b.batch.ReplyTo = ctx.Self()
		b.target.send(b.batch)
	}
	if f := p.core.failed; f != nil && !p.stopped {
		p.stopped = true
		p.core.stats.setStopped(fmt.Sprintf("at offset %d: %s", f.offset, f.detail))
		ctx.Send(ctx.Parent(), &partitionStopped{tp: p.core.tp, failure: *f})
	}
	p.backpressure()
	p.checkDrained()
}

// pauseForDisk pauses fetching until a check finds room on the disk.
func (p *partitionActor) pauseForDisk(ctx actor.Context) {
	if !p.diskFull {
		p.diskFull = true
		p.core.stats.setDiskFull(true)
		p.syncFetch()
	}
	p.scheduleCheck(ctx)
}

func (p *partitionActor) scheduleCheck(ctx actor.Context) {
	if p.checking {
		return
	}
	p.checking = true
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(spaceCheckEvery, func() { sys.Root.Send(self, spaceCheck{}) })
}

// resumeAfterDisk maps the held deliveries in order, then fetches again
// (unless the tables are behind).
func (p *partitionActor) resumeAfterDisk(ctx actor.Context) {
	p.diskFull = false
	p.core.stats.setDiskFull(false)
	held := p.held
	p.held = nil
	for _, m := range held {
		if p.broken {
			return
		}
		p.handle(ctx, m)
	}
	p.syncFetch()
}

// syncFetch pauses or resumes fetching the partition when the tables are
// behind or the disk is full, and only then.
func (p *partitionActor) syncFetch() {
	want := p.paused || p.diskFull || p.changed
	if want == p.fetchPaused {
		return
	}
	p.fetchPaused = want
	if want {
		p.client.Pause(p.core.tp)
	} else {
		p.client.Resume(p.core.tp)
	}
}

func (p *partitionActor) sendDLQ(ctx actor.Context, rej []rejected) bool {
	if p.dlq == nil {
		p.broken = true
		ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: errors.New("no producer for the dead-letter topic")})
		return false
	}
	msgs := make([]kafka.Message, len(rej))
	for i, r := range rej {
		msgs[i] = kafka.Message{Topic: p.dlqTopic, Key: r.rec.Key, Value: r.rec.Value, Headers: []kafka.Header{
			{Key: "lakenode.reason", Value: []byte(r.reason)},
			{Key: "lakenode.detail", Value: []byte(r.detail)},
			{Key: "lakenode.topic", Value: []byte(r.rec.Topic)},
			{Key: "lakenode.partition", Value: []byte(strconv.Itoa(int(r.rec.Partition)))},
			{Key: "lakenode.offset", Value: []byte(strconv.FormatInt(r.rec.Offset, 10))},
		}}
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.dlq.ProduceSync(c, msgs...); err != nil {
		// The chunk's batches were not sent: its rows are not durable and
		// the low-water mark stays before it; the consumer restarts there.
		p.broken = true
		ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: fmt.Errorf("dead-letter topic %s: %w", p.dlqTopic, err)})
		return false
	}
	return true
}

func (p *partitionActor) backpressure() {
	n := p.core.inFlight()
	switch {
	case !p.paused && n >= maxInFlight:
		p.paused = true
		p.core.stats.setPaused(true)
	case p.paused && n <= maxInFlight/2:
		p.paused = false
		p.core.stats.setPaused(false)
	}
	p.syncFetch()
}

func (p *partitionActor) checkDrained() {
	if len(p.drains) == 0 || (p.core.inFlight() > 0 && !p.broken) {
		return
	}
	for _, d := range p.drains {
		close(d)
	}
	p.drains = nil
}

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

func (b *bridge) owns(pid *actor.PID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, pi := range b.parts {
		if pi.pid.Equal(pid) {
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
		b.sys.Root.Send(pi.pid, &deliver{recs: recs})
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
