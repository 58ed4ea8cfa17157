package actors

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// RowBatch carries the rows one chunk of a partition's records produced for
// one table. Session and Seq let the table refuse a batch that follows a
// lost one (ARCHITECTURE §2: a lost batch never lets a later one through).
type RowBatch struct {
	Table   *schema.Table // schema the values were laid out for
	Session uint64        // the feeding partition actor's incarnation
	Seq     uint64        // per (session, table), from 0 without gaps
	Chunk   uint64        // the partition's chunk id, echoed in the ack
	Feed    tables.Feed
	Stamps  []int64 // Kafka record timestamps (ms) of the rows, for latency
	ReplyTo *actor.PID
}

// BatchAck answers a RowBatch once it is durable, or with Err when it was
// refused or its commit failed.
type BatchAck struct {
	Batch  *RowBatch
	Result tables.ApplyResult
	Err    error
}

// FlushRequest asks a table actor to commit what it buffers now; the reply
// is a FlushDone.
type FlushRequest struct{}

// FlushDone answers FlushRequest.
type FlushDone struct{ Err error }

// Thresholds bound how long a table buffers rows before committing them. The
// zero value commits as soon as the batches already queued are gathered.
type Thresholds struct {
	Time   time.Duration // commit at the latest this long after the first buffered row
	Volume int64         // or once this many bytes of values are buffered (0: no bound)
}

type sessionKey struct {
	src       uint32
	partition int32
}

type sessionState struct {
	session uint64
	next    uint64 // next expected Seq
	broken  bool   // a batch of this session was lost: refuse the rest
}

// tableWriter is the logic of a table actor: it checks batch sequences,
// gathers batches and commits them in one Apply.
type tableWriter struct {
	store    *tables.Store
	hooks    *TestHooks
	table    *schema.Table
	sessions map[sessionKey]*sessionState
	pending  []*RowBatch
	bytes    int64
	since    time.Time // when the first pending batch arrived
}

func newTableWriter(store *tables.Store, t *schema.Table) *tableWriter {
	return &tableWriter{store: store, table: t, sessions: make(map[sessionKey]*sessionState)}
}

// errRefused is the error of a batch that does not follow the last one of
// its session.
type errRefused struct {
	table        string
	session, seq uint64
	why          string
}

func (e *errRefused) Error() string {
	return fmt.Sprintf("table %s refused batch %d of session %d: %s", e.table, e.seq, e.session, e.why)
}

// accept checks b's place in its session and buffers it.
func (w *tableWriter) accept(b *RowBatch, now time.Time) error {
	k := sessionKey{b.Feed.Src, b.Feed.Partition}
	s := w.sessions[k]
	switch {
	case s == nil || s.session != b.Session:
		if b.Seq != 0 {
			return &errRefused{w.table.FullName(), b.Session, b.Seq, "unknown session (the table restarted)"}
		}
		s = &sessionState{session: b.Session}
		w.sessions[k] = s
	case s.broken:
		return &errRefused{w.table.FullName(), b.Session, b.Seq, "an earlier batch of the session was lost"}
	case b.Seq != s.next:
		s.broken = true
		return &errRefused{w.table.FullName(), b.Session, b.Seq, fmt.Sprintf("expected batch %d", s.next)}
	}
	s.next = b.Seq + 1
	if b.Table != nil && b.Table.Version > w.table.Version {
		w.table = b.Table
	}
	if len(w.pending) == 0 {
		w.since = now
	}
	w.pending = append(w.pending, b)
	for _, r := range b.Feed.Records {
		w.bytes += valuesSize(r.Values)
	}
	return nil
}

func valuesSize(vs []schema.Value) int64 {
	n := int64(0)
	for _, v := range vs {
		n += 9 + int64(len(v.S))
	}
	return n
}

// due reports whether the buffered batches should be committed now.
func (w *tableWriter) due(th Thresholds, now time.Time) bool {
	if len(w.pending) == 0 {
		return false
	}
	if th.Time == 0 {
		return true
	}
	if th.Volume > 0 && w.bytes >= th.Volume {
		return true
	}
	return now.Sub(w.since) >= th.Time
}

// flush commits every pending batch in one Apply and returns them with the
// result. On error every session that had a batch in the commit is broken.
func (w *tableWriter) flush() ([]*RowBatch, tables.ApplyResult, error) {
	batches := w.pending
	w.pending, w.bytes = nil, 0
	if len(batches) == 0 {
		return nil, tables.ApplyResult{}, nil
	}
	feeds := make([]tables.Feed, 0, len(batches))
	for i, b := range batches {
		// Only batches of one session are merged: after a restart the
		// old and the new session may carry the same offsets, and the
		// store skips the repeat only across feeds.
		if n := len(feeds); n > 0 && feeds[n-1].Src == b.Feed.Src && feeds[n-1].Partition == b.Feed.Partition && batches[i-1].Session == b.Session {
			feeds[n-1].Records = append(feeds[n-1].Records, b.Feed.Records...)
			feeds[n-1].Next = b.Feed.Next
			continue
		}
		f := b.Feed
		f.Records = append([]tables.Record(nil), f.Records...)
		feeds = append(feeds, f)
	}
	if d := testApplyDelay(w.table.DBMS, w.table.Name); d > 0 {
		time.Sleep(d) // the fault suite's slowed table (testhook.go)
	}
	w.hooks.beforeApply(w.table.FullName())
	res, err := w.store.Apply(w.table, feeds)
	if err != nil {
		for _, b := range batches {
			if s := w.sessions[sessionKey{b.Feed.Src, b.Feed.Partition}]; s != nil && s.session == b.Session {
				s.broken = true
			}
		}
	}
	return batches, res, err
}

// tableActor is the only writer of one table. Its supervisor is the
// catalog (restartStrategy). unacked holds every batch it accepted and has
// not answered: when the actor restarts or stops, its Restarting or
// Stopping case answers them with an error, so their partitions restart
// from their durable offsets instead of waiting for acks forever.
type tableActor struct {
	w          *tableWriter
	thresholds func() Thresholds
	timerSet   bool
	stats      *TableStats
	unacked    map[*RowBatch]struct{}
	trace      func(string)
}

// errWriterRestarted answers the batches a table writer lost in a failure.
var errWriterRestarted = errors.New("the table's writer failed and restarted; the batch was not committed")

type flushTick struct{}

// TableCounters are a table actor's counters, read by `get operator` and
// `get streaming`.
type TableCounters struct {
	Batches      int64
	Rows         int64
	Commits      int64
	Errors       int64
	LastError    string
	LastErrorAt  time.Time
	FirstInsert  time.Time
	LastInsert   time.Time
	CommitTime   time.Duration // total time inside Apply
	PendingRows  int64
	PendingBytes int64
	LastAdd      time.Time
}

// TableStats guards a table actor's counters; the actor writes, commands read.
type TableStats struct {
	mu sync.Mutex
	TableCounters
}

// Snapshot returns a copy of the counters.
func (s *TableStats) Snapshot() TableCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.TableCounters
}

// newTableProps returns the props of a table actor: each (re)start gets a
// fresh writer, which knows no session, so batches that follow a lost one
// are refused.
func newTableProps(tree *Tree, t *schema.Table, stats *TableStats) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		w := newTableWriter(tree.cfg.Store, t)
		w.hooks = tree.cfg.Hooks
		return &tableActor{w: w, thresholds: tree.cfg.Thresholds, stats: stats, unacked: make(map[*RowBatch]struct{}), trace: tree.trace}
	})
}

func (a *tableActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Restarting:
		a.failUnacked(ctx, errWriterRestarted)
	case *actor.Stopping:
		a.failUnacked(ctx, errWriterGone)
	case *RowBatch:
		now := time.Now()
		a.unacked[m] = struct{}{}
		a.w.hooks.beforeAccept(a.w.table.FullName())
		if err := a.w.accept(m, now); err != nil {
			delete(a.unacked, m)
			ctx.Send(m.ReplyTo, &BatchAck{Batch: m, Err: err})
			return
		}
		a.stats.mu.Lock()
		a.stats.Batches++
		a.stats.LastAdd = now
		a.stats.PendingRows += int64(len(m.Feed.Records))
		a.stats.PendingBytes = a.w.bytes
		a.stats.mu.Unlock()
		a.schedule(ctx, now)
	case flushTick:
		a.timerSet = false
		if len(a.w.pending) > 0 && a.w.store.Space().Check() != nil {
			// The disk is below --min-free: keep the batches and try
			// again; the feeding partitions pause meanwhile.
			a.retryLater(ctx)
			return
		}
		if a.w.due(a.thresholds(), time.Now()) {
			// A failed commit is answered to every batch in it; the
			// feeding partitions restart from their low-water marks.
			_ = a.commit(ctx)
		} else {
			a.schedule(ctx, time.Now())
		}
	case *FlushRequest:
		if err := a.w.store.Space().Check(); err != nil && len(a.w.pending) > 0 {
			// Nothing is committed on a full disk: the batches stay
			// unacknowledged, so their records are consumed again after a
			// restart.
			ctx.Respond(&FlushDone{Err: err})
			return
		}
		err := a.commit(ctx)
		if a.trace != nil {
			a.trace("table flushed " + a.w.table.FullName())
		}
		ctx.Respond(&FlushDone{Err: err})
	}
}

// failUnacked answers every batch not yet answered with err; the pending
// ones are not committed.
func (a *tableActor) failUnacked(ctx actor.Context, err error) {
	for b := range a.unacked {
		ctx.Send(b.ReplyTo, &BatchAck{Batch: b, Err: err})
	}
	clear(a.unacked)
	a.w.pending, a.w.bytes = nil, 0
	a.stats.mu.Lock()
	a.stats.PendingRows, a.stats.PendingBytes = 0, 0
	a.stats.mu.Unlock()
}

// spaceRetry is how often a table waiting for disk space checks again.
const spaceRetry = 250 * time.Millisecond

// retryLater schedules the next commit attempt while the disk is full.
func (a *tableActor) retryLater(ctx actor.Context) {
	a.timerSet = true
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(spaceRetry, func() { sys.Root.Send(self, flushTick{}) })
}

// schedule arranges the next commit: at once (after the batches already in
// the mailbox, which join it) or when the time threshold expires.
func (a *tableActor) schedule(ctx actor.Context, now time.Time) {
	if a.timerSet || len(a.w.pending) == 0 {
		return
	}
	th := a.thresholds()
	if a.w.due(th, now) && th.Time == 0 {
		a.timerSet = true
		ctx.Send(ctx.Self(), flushTick{})
		return
	}
	if th.Volume > 0 && a.w.bytes >= th.Volume {
		a.timerSet = true
		ctx.Send(ctx.Self(), flushTick{})
		return
	}
	wait := th.Time - now.Sub(a.w.since)
	if wait < 0 {
		wait = 0
	}
	a.timerSet = true
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(wait, func() { sys.Root.Send(self, flushTick{}) })
}

func (a *tableActor) commit(ctx actor.Context) error {
	start := time.Now()
	batches, res, err := a.w.flush()
	if len(batches) == 0 {
		return nil
	}
	el := time.Since(start)
	a.stats.mu.Lock()
	a.stats.PendingRows, a.stats.PendingBytes = 0, 0
	if err != nil {
		a.stats.Errors++
		a.stats.LastError = err.Error()
		a.stats.LastErrorAt = time.Now()
	} else {
		a.stats.Commits++
		a.stats.Rows += int64(res.Rows)
		a.stats.CommitTime += el
		if a.stats.FirstInsert.IsZero() {
			a.stats.FirstInsert = res.CommitTime
		}
		a.stats.LastInsert = res.CommitTime
	}
	a.stats.mu.Unlock()
	for _, b := range batches {
		delete(a.unacked, b)
		ctx.Send(b.ReplyTo, &BatchAck{Batch: b, Result: res, Err: err})
	}
	return err
}
