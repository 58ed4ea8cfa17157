package actors

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/tables"
)

// partitionConfig is what a partition actor is made from; every
// incarnation builds a fresh partitionCore (a new session) from it.
type partitionConfig struct {
	gen        int
	tp         kafka.TopicPartition
	src        uint32
	consumerID string
	mapping    mappingSource
	resolver   func() *resolver
	client     *kafka.Consumer
	store      *tables.Store
	permits    *actor.PID // the consumer, which hands out decode permits
	dlqSend    func(ctx context.Context, msgs []kafka.Message) error
	dlqTopic   string
	hooks      *TestHooks
	stats      *PartitionStats
}

// partitionActor wraps a partitionCore. Its supervisor is its consumer,
// whose strategy stops it on a failure (stopStrategy): the consumer then
// restarts its Kafka client, and with it every partition, from the durable
// offsets, so no in-flight chunk is lost or applied twice.
type partitionActor struct {
	cfg     partitionConfig
	gen     int
	core    *partitionCore
	paused  bool // backpressure: too many chunks unacknowledged
	broken  bool
	stopped bool // errors = fail stopped it; reported once
	changed bool // its topic changed under it: paused until a reset
	drains  []chan struct{}

	// held are deliveries not mapped yet: waiting for a decode permit, for
	// the dead-letter produce of the chunk before them, or for disk space.
	held       []*deliver
	wantPermit bool // a permitRequest is out
	hasPermit  bool

	// asking: a table the mapping needs is being asked of the catalog
	// (resolver.ask); mapping waits for the answer, acks keep flowing.
	asking   *needTable
	askSeq   uint64
	resolver *resolver

	// dlqBusy: a chunk's rejected messages are being produced to the
	// dead-letter topic by a worker; its batches (awaiting) go to the
	// tables once that succeeds.
	dlqBusy   bool
	awaiting  []builtBatch
	dlqCancel context.CancelFunc

	// diskFull: the data dir's disk is below --min-free, so deliveries are
	// held (not mapped: mapping may create tables) and fetching is paused
	// until a check finds room again.
	diskFull    bool
	checking    bool // a spaceCheck is scheduled
	fetchPaused bool // what the client was last told
}

func newPartitionProps(cfg partitionConfig) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		core := newPartitionCore(cfg.tp, cfg.src, sessionCounter.Add(1))
		core.consumerID = cfg.consumerID
		core.ev = cfg.mapping.m.NewEvaluator()
		core.policy = cfg.mapping.policy
		core.stats = cfg.stats
		res := cfg.resolver()
		core.resolve = res.resolve
		core.errTarget = res.errorTable
		return &partitionActor{cfg: cfg, gen: cfg.gen, core: core, resolver: res}
	})
}

type deliver struct {
	recs []kafka.Record
	// size is what the delivery took of its flow's fetch budget, given
	// back once it is mapped or dropped.
	size int64
	flow *fetchFlow
}

func (d *deliver) done() {
	if d.flow != nil {
		d.flow.give(d.size)
		d.flow = nil
	}
}

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

// dlqWork tags the dead-letter produce's workDone.
type dlqWork struct{}

// dlqTimeout bounds one dead-letter produce.
const dlqTimeout = 30 * time.Second

func (p *partitionActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Stopping:
		if p.dlqCancel != nil {
			p.dlqCancel()
		}
		p.dropHeld()
	case startAt:
		p.startAt(ctx, m)
	case *topicChanged:
		p.topicChanged(m)
	case *deliver:
		if p.broken || p.changed {
			// Not mapped and not marked: read again after a reset or a
			// restart, if the operator's reset keeps them.
			m.done()
			return
		}
		p.held = append(p.held, m)
		p.pump(ctx)
	case *ensured:
		p.answered(ctx, m.seq, m)
	case askExpired:
		p.answered(ctx, m.seq, &ensured{err: fmt.Errorf("asking the catalog: no answer within %v", askTimeout)})
	case *permitGrant:
		p.wantPermit, p.hasPermit = false, true
		p.pump(ctx)
		if p.hasPermit { // nothing was left to map
			p.releasePermit(ctx)
		}
	case *workDone:
		p.dlqDone(ctx, m.err)
	case diskFull:
		if !p.broken {
			p.pauseForDisk(ctx)
		}
	case spaceCheck:
		p.spaceCheck(ctx)
	case *BatchAck:
		p.ack(ctx, m)
	case drain:
		p.drain(m)
	}
}

func (p *partitionActor) startAt(ctx actor.Context, m startAt) {
	p.core.startAt(m.offset)
	if m.offset >= 0 {
		p.core.stats.setLowWater(m.offset)
	}
	if m.store && m.offset >= 0 {
		if err := p.cfg.store.SetLowWater(p.core.src, p.core.tp.Partition, m.offset); err != nil {
			p.fail(ctx, fmt.Errorf("storing the start offset: %w", err))
		}
	}
}

func (p *partitionActor) topicChanged(m *topicChanged) {
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
}

// fail marks the partition broken and asks the consumer to restart from
// the durable offsets.
func (p *partitionActor) fail(ctx actor.Context, err error) {
	p.broken = true
	ctx.Send(ctx.Parent(), &partitionBroken{gen: p.gen, tp: p.core.tp, err: err})
	p.checkDrained()
}

func (p *partitionActor) ack(ctx actor.Context, m *BatchAck) {
	if p.broken {
		return
	}
	moved, err := p.core.ack(m)
	if err != nil {
		p.fail(ctx, err)
		return
	}
	if moved && !p.storeLowWater(ctx) {
		return
	}
	p.backpressure()
	p.checkDrained()
}

// storeLowWater stores the moved low-water mark and marks it for the group
// commit; false when that failed (the partition is broken then).
func (p *partitionActor) storeLowWater(ctx actor.Context) bool {
	if err := p.cfg.store.SetLowWater(p.core.src, p.core.tp.Partition, p.core.lwm); err != nil {
		p.fail(ctx, fmt.Errorf("storing the low-water mark: %w", err))
		return false
	}
	p.cfg.client.MarkCommit(p.core.tp, p.core.lwm)
	return true
}

func (p *partitionActor) drain(m drain) {
	p.drains = append(p.drains, m.done)
	if p.core.inFlight() > 0 && (p.dlqBusy || p.diskFull || p.cfg.store.Space().Check() != nil) {
		// The tables cannot commit on a full disk, and a dead-letter
		// topic that does not answer would hold the stop: give up the
		// batches in flight and the held deliveries. The low-water mark
		// stays before them, so they are consumed again; a table that
		// commits them later skips them then by its own offsets.
		p.broken = true
		p.dropHeld()
		if p.dlqCancel != nil {
			p.dlqCancel()
		}
	}
	p.checkDrained()
}

// dropHeld gives up the deliveries not mapped yet (not marked: they are
// fetched again) and their share of the fetch budget.
func (p *partitionActor) dropHeld() {
	for _, m := range p.held {
		m.done()
	}
	p.held = nil
}

// pump maps held deliveries in order while nothing holds them back: a full
// disk, a dead-letter produce in progress, or no decode permit.
func (p *partitionActor) pump(ctx actor.Context) {
	for len(p.held) > 0 && !p.broken {
		if p.diskFull || p.cfg.store.Space().Check() != nil {
			p.pauseForDisk(ctx)
			return
		}
		if p.dlqBusy || p.wantPermit || p.asking != nil {
			return
		}
		if p.cfg.permits != nil && !p.hasPermit {
			p.wantPermit = true
			ctx.Send(p.cfg.permits, &permitRequest{pid: ctx.Self()})
			return
		}
		m := p.held[0]
		p.held = p.held[1:]
		if p.handle(ctx, m) {
			m.done()
		}
		if p.hasPermit {
			p.releasePermit(ctx)
		}
	}
}

func (p *partitionActor) releasePermit(ctx actor.Context) {
	p.hasPermit = false
	ctx.Send(p.cfg.permits, &permitRelease{pid: ctx.Self()})
}

// handle maps a delivery and sends its batches to the tables, after its
// rejected messages reached the dead-letter topic when there are any. It
// reports false when mapping stopped at a record whose table must be asked
// of the catalog first: the delivery is held again, at the front, and
// mapped from that record on once the answer is in.
func (p *partitionActor) handle(ctx actor.Context, m *deliver) bool {
	p.cfg.hooks.beforeDecode(p.core.tp)
	batches, dlq := p.core.process(m.recs)
	if err := p.core.halt; err != nil {
		// A table's writer stopped for good: nothing from this record on
		// is marked; the consumer restarts here (and stops after repeated
		// failures).
		p.fail(ctx, err)
		return true
	}
	need := p.core.need
	if need != nil {
		p.core.need = nil
		p.held = append([]*deliver{m}, p.held...)
		p.ask(ctx, need)
	}
	if len(dlq) > 0 {
		p.startDLQ(ctx, dlq, batches)
	} else {
		p.send(ctx, batches)
	}
	return need == nil
}

// askTimeout is how long a partition waits for the catalog's answer; past
// it the record is rejected as a table_error, as when the catalog refuses.
const askTimeout = 30 * time.Second

type askExpired struct{ seq uint64 }

// ask sends a table the mapping needs to the catalog; ensured or
// askExpired ends the wait.
func (p *partitionActor) ask(ctx actor.Context, n *needTable) {
	p.askSeq++
	p.asking = n
	seq, self, sys := p.askSeq, ctx.Self(), ctx.ActorSystem()
	p.resolver.ask(ctx, n, seq)
	time.AfterFunc(askTimeout, func() { sys.Root.Send(self, askExpired{seq: seq}) })
}

// answered installs the catalog's answer (or the expiry) and maps on.
func (p *partitionActor) answered(ctx actor.Context, seq uint64, a *ensured) {
	if p.asking == nil || seq != p.askSeq {
		return // an answer after its expiry, or an expiry after its answer
	}
	p.resolver.install(p.asking, a)
	p.asking = nil
	p.pump(ctx)
}

func (p *partitionActor) send(ctx actor.Context, batches []builtBatch) {
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

// startDLQ produces a chunk's rejected messages in a worker; the chunk's
// batches wait in awaiting, and later deliveries in held, so the tables
// see every batch in order. Acks keep flowing meanwhile.
func (p *partitionActor) startDLQ(ctx actor.Context, rej []rejected, batches []builtBatch) {
	if p.cfg.dlqSend == nil {
		p.fail(ctx, errors.New("no producer for the dead-letter topic"))
		return
	}
	msgs := make([]kafka.Message, len(rej))
	for i, r := range rej {
		msgs[i] = kafka.Message{Topic: p.cfg.dlqTopic, Key: r.rec.Key, Value: r.rec.Value, Headers: []kafka.Header{
			{Key: "lakenode.reason", Value: []byte(r.reason)},
			{Key: "lakenode.detail", Value: []byte(r.detail)},
			{Key: "lakenode.topic", Value: []byte(r.rec.Topic)},
			{Key: "lakenode.partition", Value: []byte(strconv.Itoa(int(r.rec.Partition)))},
			{Key: "lakenode.offset", Value: []byte(strconv.FormatInt(r.rec.Offset, 10))},
		}}
	}
	wctx, cancel := context.WithTimeout(context.Background(), dlqTimeout)
	p.dlqBusy, p.awaiting, p.dlqCancel = true, batches, cancel
	send := p.cfg.dlqSend
	startWork(ctx, wctx, dlqWork{}, func(c context.Context) error { return send(c, msgs) })
}

func (p *partitionActor) dlqDone(ctx actor.Context, err error) {
	if p.dlqCancel != nil {
		p.dlqCancel()
		p.dlqCancel = nil
	}
	batches := p.awaiting
	p.dlqBusy, p.awaiting = false, nil
	if p.broken {
		return
	}
	if err != nil {
		// The chunk's batches were not sent: its rows are not durable and
		// the low-water mark stays before it; the consumer restarts there.
		p.fail(ctx, fmt.Errorf("dead-letter topic %s: %w", p.cfg.dlqTopic, err))
		return
	}
	if p.core.dlqDone() && !p.storeLowWater(ctx) {
		return
	}
	p.send(ctx, batches)
	p.pump(ctx)
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

func (p *partitionActor) spaceCheck(ctx actor.Context) {
	p.checking = false
	if p.broken || !p.diskFull {
		return
	}
	if p.cfg.store.Space().Check() != nil {
		p.scheduleCheck(ctx)
		return
	}
	// Map the held deliveries in order, then fetch again (unless the
	// tables are behind).
	p.diskFull = false
	p.core.stats.setDiskFull(false)
	p.pump(ctx)
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
		p.cfg.client.Pause(p.core.tp)
	} else {
		p.cfg.client.Resume(p.core.tp)
	}
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
