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
