package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// NodeRoot supervises the node's long-running actors (consumers, and later
// export jobs): one-for-one, a failed child is restarted, and one that fails
// more than 10 times a minute is stopped and reported.
type nodeRoot struct{}

// StartConsumer asks the node root to start a consumer; the reply is a
// *ConsumerHandle or a *StartFailed.
type StartConsumer struct{ Config ConsumerConfig }

// StartFailed is the reply when a child could not be started.
type StartFailed struct{ Err error }

// SpawnNodeRoot starts the node root under the actor system's root.
func SpawnNodeRoot(sys *actor.ActorSystem) (*actor.PID, error) {
	props := actor.PropsFromProducer(func() actor.Actor { return &nodeRoot{} },
		actor.WithSupervisor(actor.NewOneForOneStrategy(10, time.Minute, actor.DefaultDecider)))
	pid, err := sys.Root.SpawnNamed(props, "node")
	if err != nil {
		return nil, fmt.Errorf("starting the node root: %w", err)
	}
	return pid, nil
}

func (r *nodeRoot) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *StartConsumer:
		h, err := SpawnConsumer(ctx, m.Config)
		if err != nil {
			ctx.Respond(&StartFailed{Err: err})
			return
		}
		ctx.Respond(h)
	case *SpawnChild:
		ctx.Respond(spawnChild(ctx, m))
	case *StartExport:
		if err := spawnExport(ctx, m); err != nil {
			ctx.Respond(&ExportDone{Err: err})
		}
	}
}
