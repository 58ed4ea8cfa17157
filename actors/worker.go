package actors

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/asynkron/protoactor-go/actor"
)

// workDone carries the result of work an actor ran off its goroutine
// (startWork); tag says which work it was.
type workDone struct {
	tag any
	err error
}

// errPanicked is the error of work that panicked.
type errPanicked struct {
	value any
	stack string
}

func (e *errPanicked) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// startWork runs fn in a goroutine and sends its result to the actor as a
// *workDone, so that Receive never waits on the network or a slow call
// (protoactor's PipeTo, for work that is not a future). A panic in fn is
// returned as an *errPanicked instead of ending the process. The actor
// owns the goroutine through wctx: it cancels it when it stops.
func startWork(ctx actor.Context, wctx context.Context, tag any, fn func(context.Context) error) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	go func() {
		var err error
		defer func() {
			if r := recover(); r != nil {
				err = &errPanicked{value: r, stack: string(debug.Stack())}
			}
			sys.Root.Send(self, &workDone{tag: tag, err: err})
		}()
		err = fn(wctx)
	}()
}
