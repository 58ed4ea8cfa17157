package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"

	"github.com/lakenode/lakenode/tables"
)

// The actor tree, under the actor system's root:
//
//	node        nodeRoot: restarts a failed supervisor (restartStrategy)
//	├── consumers   consumersActor: restarts a failed consumer, stops one
//	│   │           that fails more than 5 times a minute (restartStrategy)
//	│   └── consumer-N  stops a failed partition actor and restarts its
//	│       │           Kafka client from the durable offsets, with backoff
//	│       │           (stopStrategy + its own client restarts)
//	│       └── p-TOPIC-PART-SESSION
//	├── tables      catalogActor: owns the (dbms, table) -> writer map;
//	│   │           restarts a failed table writer, stops one that fails
//	│   │           more than 5 times a minute (restartStrategy)
//	│   └── table/DBMS.TABLE
//	└── jobs        jobsActor: exports and schedulers; a failed one is
//	    │           stopped and reported (to its asker, for an export),
//	    │           never retried behind its back (stopStrategy)
//	    ├── export-N
//	    └── scheduler-N  runs its due tasks in a worker, one tick at a time
//
// Every Props producer returns a new instance, so a restart never reuses a
// broken actor; each actor releases what it holds in its Stopping case.

// TreeConfig is what the tree needs.
type TreeConfig struct {
	Store      *tables.Store
	Thresholds func() Thresholds
	// Events receives failure lines for the error log; may be nil. It
	// must not block.
	Events func(kind, text string)
	// Hooks are test-only fault injections; nil in production.
	Hooks *TestHooks
	// StopTrace, when set, is told each step of an orderly stop (tests
	// check the order); nil in production.
	StopTrace func(step string)
}

// Tree is the running actor tree of a node.
type Tree struct {
	sys       *actor.ActorSystem
	cfg       TreeConfig
	failures  *failureLog
	Root      *actor.PID
	Consumers *actor.PID
	Tables    *actor.PID
	Jobs      *actor.PID
	Catalog   *Catalog
	unsub     *eventstream.Subscription
}

// treePIDs asks the node root for its supervisors.
type treePIDs struct{}

type treePIDsReply struct{ consumers, tables, jobs *actor.PID }

// nodeRoot starts the three supervisors and restarts one that fails; their
// children are stopped with them and rebuilt from durable state.
type nodeRoot struct{ tree *Tree }

func (r *nodeRoot) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *SpawnChild:
		// The node's other children (the queries supervisor, the command
		// actor) are spawned by the node through this message.
		ctx.Respond(spawnChild(ctx, m))
	case *actor.Started:
		t := r.tree
		sup := actor.WithSupervisor(newRestartStrategy(t.failures))
		spawnSupervisor(ctx, actor.PropsFromProducer(func() actor.Actor { return &consumersActor{tree: t} }, sup), "consumers")
		spawnSupervisor(ctx, actor.PropsFromProducer(func() actor.Actor { return newCatalogActor(t) }, sup), "tables")
		spawnSupervisor(ctx, actor.PropsFromProducer(func() actor.Actor { return &jobsActor{tree: t} },
			actor.WithSupervisor(&stopStrategy{log: t.failures, what: "stopped; its asker is told"})), "jobs")
	case *treePIDs:
		var rep treePIDsReply
		for _, c := range ctx.Children() {
			switch c.Id {
			case ctx.Self().Id + "/consumers":
				rep.consumers = c
			case ctx.Self().Id + "/tables":
				rep.tables = c
			case ctx.Self().Id + "/jobs":
				rep.jobs = c
			}
		}
		ctx.Respond(&rep)
	}
}

// spawnSupervisor starts one of the node root's supervisors. Its name is
// taken only by an instance that did not stop: the node root fails then,
// and its own supervisor restarts it.
func spawnSupervisor(ctx actor.Context, props *actor.Props, name string) {
	if _, err := ctx.SpawnNamed(props, name); err != nil {
		panic(fmt.Sprintf("starting the %s supervisor: %v", name, err))
	}
}

// SpawnTree starts the node's actor tree.
func SpawnTree(sys *actor.ActorSystem, cfg TreeConfig) (*Tree, error) {
	t := &Tree{sys: sys, cfg: cfg, failures: newFailureLog(cfg.Events)}
	props := actor.PropsFromProducer(func() actor.Actor { return &nodeRoot{tree: t} },
		actor.WithSupervisor(newRestartStrategy(t.failures)))
	root, err := sys.Root.SpawnNamed(props, "node")
	if err != nil {
		return nil, fmt.Errorf("starting the node root: %w", err)
	}
	t.Root = root
	res, err := sys.Root.RequestFuture(root, &treePIDs{}, 10*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("starting the actor tree: %w", err)
	}
	rep, _ := res.(*treePIDsReply)
	if rep == nil || rep.consumers == nil || rep.tables == nil || rep.jobs == nil {
		return nil, errors.New("starting the actor tree: a supervisor did not start")
	}
	t.Consumers, t.Tables, t.Jobs = rep.consumers, rep.tables, rep.jobs
	t.Catalog = &Catalog{sys: sys, pid: rep.tables, failures: t.failures}
	// A batch sent to a table writer that is gone (stopped, or between a
	// stop and the catalog noticing) is answered with an error, so its
	// partition restarts from its durable offsets instead of waiting.
	t.unsub = sys.EventStream.Subscribe(func(evt any) {
		if dl, ok := evt.(*actor.DeadLetterEvent); ok {
			if b, ok := dl.Message.(*RowBatch); ok && b.ReplyTo != nil {
				sys.Root.Send(b.ReplyTo, &BatchAck{Batch: b, Err: errWriterGone})
			}
		}
	})
	return t, nil
}

// errWriterGone answers a batch that reached no table writer.
var errWriterGone = errors.New("the table's writer is not running")

func (t *Tree) trace(step string) {
	if t.cfg.StopTrace != nil {
		t.cfg.StopTrace(step)
	}
}

// Failures returns the failures of the actor with PID pid.
func (t *Tree) Failures(pid *actor.PID) FailureStatus {
	if pid == nil {
		return FailureStatus{}
	}
	return t.failures.get(pid.Id)
}

// Stop flushes and stops the tables, then the rest of the tree. The
// consumers are stopped first by their owner (StopConsumer), so that
// fetching ends before the tables' last commit.
func (t *Tree) Stop(ctx context.Context) error {
	err := t.Catalog.Stop(ctx)
	t.trace("tables flushed and stopped")
	if t.unsub != nil {
		t.sys.EventStream.Unsubscribe(t.unsub)
	}
	_ = t.sys.Root.StopFuture(t.Root).Wait()
	return err
}

// consumersActor supervises the consumers.
type consumersActor struct{ tree *Tree }

// StartConsumer asks the tree to start a consumer; the reply is a
// *ConsumerHandle or a *StartFailed.
type StartConsumer struct{ Config ConsumerConfig }

// StartFailed is the reply when a child could not be started.
type StartFailed struct{ Err error }

func (a *consumersActor) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*StartConsumer); ok {
		h, err := spawnConsumer(ctx, a.tree, m.Config)
		if err != nil {
			ctx.Respond(&StartFailed{Err: err})
			return
		}
		ctx.Respond(h)
	}
}

// StartConsumer starts a consumer under the consumers supervisor.
func (t *Tree) StartConsumer(cfg ConsumerConfig, timeout time.Duration) (*ConsumerHandle, error) {
	res, err := t.sys.Root.RequestFuture(t.Consumers, &StartConsumer{Config: cfg}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("starting the consumer: %w", err)
	}
	switch r := res.(type) {
	case *ConsumerHandle:
		return r, nil
	case *StartFailed:
		return nil, r.Err
	}
	return nil, fmt.Errorf("starting the consumer: unexpected reply %T", res)
}

// jobsActor supervises exports and periodic jobs (schedulers).
type jobsActor struct{ tree *Tree }

func (a *jobsActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *StartExport:
		if err := spawnExport(ctx, a.tree, m); err != nil {
			ctx.Respond(&ExportDone{Err: err})
		}
	case *startPeriodic:
		spawnPeriodic(ctx, a.tree, m)
	}
}

// Export runs an export under the jobs supervisor and waits for its end.
func (t *Tree) Export(spec ExportSpec, timeout time.Duration) (*ExportDone, error) {
	res, err := t.sys.Root.RequestFuture(t.Jobs, &StartExport{Spec: spec}, timeout).Result()
	if err != nil {
		return nil, err
	}
	done, ok := res.(*ExportDone)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", res)
	}
	return done, nil
}
