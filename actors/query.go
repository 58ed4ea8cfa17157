package actors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/tables"
)

// Queries: a supervisor under the node root with one actor per running
// query. A query actor owns its context — the caller's, its deadline
// (max_time) and its cancellation (`cancel query`, the node stopping) — and
// runs its work (the scan, or the scatter to the peers and the merge) on a
// worker goroutine whose outcome comes back to it as a message, so neither
// actor ever blocks in Receive on a scan.

// SpawnChild asks the node root to start a child of its own, supervised
// with the others (the queries supervisor, the node's command actor); the
// reply is a *ChildStarted or a *StartFailed.
type SpawnChild struct {
	Props *actor.Props
	Name  string
}

// ChildStarted is the child a SpawnChild started.
type ChildStarted struct{ PID *actor.PID }

// spawnChild starts a SpawnChild's child.
func spawnChild(ctx actor.Context, m *SpawnChild) any {
	pid, err := ctx.SpawnNamed(m.Props, m.Name)
	if err != nil {
		return &StartFailed{Err: fmt.Errorf("starting %s: %w", m.Name, err)}
	}
	return &ChildStarted{PID: pid}
}

// StartQuery asks the queries supervisor to run a query. The sender gets a
// *QueryDone when it ends.
type StartQuery struct{ Spec QuerySpec }

// QuerySpec describes a query to run.
type QuerySpec struct {
	Text   string // the command, as get queries shows it
	Origin string // the node the query came from (for a share, the asker)
	Share  bool   // a node's share of another node's run client () query
	// Parent is the caller's context: the query stops when it ends.
	Parent context.Context
	// MaxTime, when positive, is the query's deadline from its start.
	MaxTime time.Duration
	Logger  *slog.Logger
	// Work is what the query does: a *LocalQuery, *StreamQuery,
	// *ShareQuery or *ScatterQuery, which hold its answer when it is done.
	Work QueryWork
	// Progress, when set, counts the rows the query's scans read on this
	// node, for the caller's progress line.
	Progress *atomic.Int64
}

// QueryWork is one of the works a query actor runs.
type QueryWork interface {
	// run does the work under ctx (the query's context).
	run(ctx context.Context, env *queryEnv) error
	// table names what the work scans, for the test hook.
	target() (dbms, query string)
}

// queryEnv is what a query's work may use besides its context.
type queryEnv struct {
	sys *actor.ActorSystem
	log *slog.Logger
}

// QueryDone is the end of a query: Err is nil when its work succeeded (its
// answer is in the work).
type QueryDone struct {
	ID  uint64
	Err error
}

// QueryStoppedError is the error of a query whose context ended: its
// caller went away, it was canceled, or it ran past its deadline.
type QueryStoppedError struct {
	ID    uint64
	Cause error // context.Cause of the query's context
	Err   error // what the work returned
}

func (e *QueryStoppedError) Error() string {
	return fmt.Sprintf("query %d stopped (%v): %v", e.ID, e.Cause, e.Err)
}

func (e *QueryStoppedError) Unwrap() error { return e.Err }

// Deadline reports whether the query ran past its deadline.
func (e *QueryStoppedError) Deadline() bool { return errors.Is(e.Cause, context.DeadlineExceeded) }

// ErrCancelQuery is the cause of a query stopped by `cancel query ID`.
var ErrCancelQuery = errors.New("canceled by cancel query")

// errNodeStopping is the cause of a query stopped with the node.
var errNodeStopping = errors.New("the node is stopping")

// ListQueries asks the queries supervisor for the running queries; the
// reply is a *QueryList.
type ListQueries struct{}

// QueryList is the running queries, by id.
type QueryList struct{ Queries []QueryInfo }

// QueryInfo describes a running query.
type QueryInfo struct {
	ID      uint64
	Text    string
	Origin  string
	Share   bool
	Started time.Time
	Scanned int64 // rows read by its scans on this node so far
}

// CancelQuery asks the queries supervisor to stop query ID; the reply is a
// *QueryCanceled.
type CancelQuery struct{ ID uint64 }

// QueryCanceled says whether the query was running.
type QueryCanceled struct{ Found bool }

// QueriesName is the queries supervisor's name under the node root.
const QueriesName = "queries"

// QueriesProps are the queries supervisor's props: a failed query is
// stopped, never restarted (its caller has its answer: the failure).
func QueriesProps() *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &queriesActor{running: map[uint64]*runningQuery{}} },
		actor.WithSupervisor(actor.NewOneForOneStrategy(0, time.Minute, func(any) actor.Directive { return actor.StopDirective })))
}

// queriesActor supervises the query actors and knows what they run.
type queriesActor struct {
	nextID  uint64
	running map[uint64]*runningQuery
}

type runningQuery struct {
	pid     *actor.PID
	info    QueryInfo
	scanned *atomic.Int64
}

func (s *queriesActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *StartQuery:
		s.nextID++
		id := s.nextID
		q := &queryActor{id: id, spec: m.Spec, asker: ctx.Sender(), scanned: &atomic.Int64{}}
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return q }), fmt.Sprintf("q%d", id))
		if err != nil {
			ctx.Respond(&QueryDone{ID: id, Err: fmt.Errorf("starting query %d: %w", id, err)})
			return
		}
		s.running[id] = &runningQuery{pid: pid, scanned: q.scanned,
			info: QueryInfo{ID: id, Text: m.Spec.Text, Origin: m.Spec.Origin, Share: m.Spec.Share, Started: time.Now()}}
	case *ListQueries:
		list := &QueryList{}
		for _, r := range s.running {
			info := r.info
			info.Scanned = r.scanned.Load()
			list.Queries = append(list.Queries, info)
		}
		slices.SortFunc(list.Queries, func(a, b QueryInfo) int { return cmp.Compare(a.ID, b.ID) })
		ctx.Respond(list)
	case *CancelQuery:
		r, ok := s.running[m.ID]
		if ok {
			ctx.Send(r.pid, &stopQuery{cause: fmt.Errorf("%w %d", ErrCancelQuery, m.ID)})
		}
		ctx.Respond(&QueryCanceled{Found: ok})
	case *actor.Terminated:
		for id, r := range s.running {
			if r.pid.Equal(m.Who) {
				delete(s.running, id)
			}
		}
	}
}

// stopQuery tells a query actor to cancel its work.
type stopQuery struct{ cause error }

// queryFinished is a query's worker reporting its outcome.
type queryFinished struct{ err error }

// queryActor is one running query.
type queryActor struct {
	id      uint64
	spec    QuerySpec
	asker   *actor.PID
	scanned *atomic.Int64

	cancel  context.CancelCauseFunc
	stopT   context.CancelFunc
	done    chan struct{} // closed when the worker returns
	replied bool
}

func (q *queryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		q.start(ctx)
	case *queryFinished:
		q.reply(ctx, m.err)
		ctx.Stop(ctx.Self())
	case *stopQuery:
		q.cancel(m.cause)
	case *actor.Stopping:
		if !q.replied {
			// Stopped from outside (the node stops): the caller gets its
			// answer once the worker has let go of the caller's stream.
			q.cancel(errNodeStopping)
			select {
			case <-q.done:
			case <-time.After(10 * time.Second):
			}
			q.reply(ctx, &QueryStoppedError{ID: q.id, Cause: errNodeStopping, Err: errNodeStopping})
		}
	case *actor.Stopped:
		q.cancel(nil)
		q.stopT()
	}
}

// start derives the query's context and starts its worker.
func (q *queryActor) start(ctx actor.Context) {
	parent := q.spec.Parent
	if parent == nil {
		parent = context.Background()
	}
	qctx, cancel := context.WithCancelCause(parent)
	q.cancel, q.stopT = cancel, func() {}
	if q.spec.MaxTime > 0 {
		qctx, q.stopT = context.WithTimeout(qctx, q.spec.MaxTime)
	}
	delay := testScanDelay(q.spec.Work.target())
	progress := q.spec.Progress
	qctx = tables.WithScanHook(qctx, func(n int) error {
		q.scanned.Add(int64(n))
		if progress != nil {
			progress.Add(int64(n))
		}
		if delay > 0 {
			return sleepCtx(qctx, delay*time.Duration(n))
		}
		return nil
	})
	env := &queryEnv{sys: ctx.ActorSystem(), log: q.spec.Logger}
	if env.log == nil {
		env.log = slog.New(slog.DiscardHandler)
	}
	q.done = make(chan struct{})
	self, sys := ctx.Self(), ctx.ActorSystem()
	go func() {
		defer close(q.done)
		err := runWork(qctx, q.spec.Work, env)
		if err != nil && qctx.Err() != nil {
			err = &QueryStoppedError{ID: q.id, Cause: context.Cause(qctx), Err: err}
		}
		sys.Root.Send(self, &queryFinished{err: err})
	}()
}

// runWork runs a query's work, turning a panic into an error.
func runWork(ctx context.Context, w QueryWork, env *queryEnv) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in a query: %v", r)
		}
	}()
	return w.run(ctx, env)
}

func (q *queryActor) reply(ctx actor.Context, err error) {
	if q.replied || q.asker == nil {
		q.replied = true
		return
	}
	q.replied = true
	ctx.Send(q.asker, &QueryDone{ID: q.id, Err: err})
}

// sleepCtx waits d, or until ctx ends (its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RunQuery runs a query under the queries supervisor and waits for its end.
func RunQuery(sys *actor.ActorSystem, queries *actor.PID, spec QuerySpec) error {
	wait := 24 * time.Hour
	if spec.MaxTime > 0 {
		// The query ends by its deadline; its reply comes soon after.
		wait = spec.MaxTime + time.Minute
	}
	res, err := sys.Root.RequestFuture(queries, &StartQuery{Spec: spec}, wait).Result()
	if err != nil {
		return fmt.Errorf("waiting for the query: %w", err)
	}
	done, ok := res.(*QueryDone)
	if !ok {
		return fmt.Errorf("waiting for the query: unexpected reply %T", res)
	}
	return done.Err
}
