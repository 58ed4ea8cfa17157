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
