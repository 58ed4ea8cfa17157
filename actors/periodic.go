package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// PeriodicSpec is a job that runs Tick every Every (a scheduler's tasks).
// Tick runs in a worker, never two at once, and gets a context cancelled
// when the job stops; a tick that is still running when the next is due
// delays it. A panic in Tick is reported to the tree's events and the job
// goes on.
type PeriodicSpec struct {
	Name  string
	Every time.Duration
	Tick  func(ctx context.Context, now time.Time)
}

type startPeriodic struct{ spec PeriodicSpec }

type periodicTick struct{}

// periodicActor runs a PeriodicSpec under the jobs supervisor; its
// Stopping case cancels the running tick and the timer.
type periodicActor struct {
	tree   *Tree
	spec   PeriodicSpec
	timer  *time.Timer
	busy   bool
	ctx    context.Context
	cancel context.CancelFunc
}

func (a *periodicActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.ctx, a.cancel = context.WithCancel(context.Background())
		a.arm(ctx)
	case periodicTick:
		if a.busy || a.ctx.Err() != nil {
			return
		}
		a.busy = true
		tick, now := a.spec.Tick, time.Now()
		startWork(ctx, a.ctx, nil, func(c context.Context) error {
			tick(c, now)
			return nil
		})
	case *workDone:
		a.busy = false
		if m.err != nil && a.tree.cfg.Events != nil {
			a.tree.cfg.Events("scheduler", fmt.Sprintf("%s: %v", a.spec.Name, m.err))
		}
		a.arm(ctx)
	case *actor.Stopping:
		if a.timer != nil {
			a.timer.Stop()
		}
		if a.cancel != nil {
			a.cancel()
		}
	}
}

func (a *periodicActor) arm(ctx actor.Context) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	a.timer = time.AfterFunc(a.spec.Every, func() { sys.Root.Send(self, periodicTick{}) })
}

// StartPeriodic starts a periodic job under the jobs supervisor.
func (t *Tree) StartPeriodic(spec PeriodicSpec) (*actor.PID, error) {
	res, err := t.sys.Root.RequestFuture(t.Jobs, &startPeriodic{spec: spec}, 10*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.Name, err)
	}
	switch r := res.(type) {
	case *actor.PID:
		return r, nil
	case *StartFailed:
		return nil, r.Err
	}
	return nil, fmt.Errorf("starting %s: unexpected reply %T", spec.Name, res)
}

// StopJob stops a job and waits until it has stopped (its running work is
// cancelled, not awaited).
func (t *Tree) StopJob(pid *actor.PID) {
	_ = t.sys.Root.StopFuture(pid).Wait()
}

func spawnPeriodic(ctx actor.Context, t *Tree, m *startPeriodic) {
	spec := m.spec
	props := actor.PropsFromProducer(func() actor.Actor { return &periodicActor{tree: t, spec: spec} })
	pid, err := ctx.SpawnNamed(props, spec.Name)
	if err != nil {
		ctx.Respond(&StartFailed{Err: fmt.Errorf("starting %s: %w", spec.Name, err)})
		return
	}
	ctx.Respond(pid)
}
