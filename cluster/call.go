package cluster

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
)

// DefaultMaxTime bounds how long run client () waits for a node.
const DefaultMaxTime = 20 * time.Second

// MaxTimeHeader is the message header of a request to another node that
// carries how long (µs) the asking node waits for the answer, so that the
// work stops when nobody waits for it any more (a duration, not a time:
// clocks differ).
const MaxTimeHeader = "lakenode-max-time-us"

// MaxTime reads MaxTimeHeader; DefaultMaxTime when it is missing.
func MaxTime(h actor.ReadonlyMessageHeader) time.Duration {
	if h != nil {
		if us, err := strconv.ParseInt(h.Get(MaxTimeHeader), 10, 64); err == nil && us > 0 {
			return time.Duration(us) * time.Microsecond
		}
	}
	return DefaultMaxTime
}

// requestIDs numbers this process's requests to other nodes.
var requestIDs atomic.Uint64

// RequestID returns a new id for a request to another node.
func RequestID() uint64 { return requestIDs.Add(1) }

// Ask sends msg (a request carrying id) to pid and waits for the reply, the
// timeout or the end of ctx, whichever comes first. Without a reply it tells
// pid to cancel the request, so the other node stops working for an answer
// nobody waits for.
func Ask(ctx context.Context, sys *actor.ActorSystem, log *slog.Logger, pid *actor.PID, msg any, id uint64, timeout time.Duration) (any, error) {
	// The header tells the other node how long this one waits, so that its
	// work stops by itself even if the cancel below is lost.
	f := actor.NewFuture(sys, timeout)
	sys.Root.Send(pid, &actor.MessageEnvelope{
		Header:  map[string]string{MaxTimeHeader: strconv.FormatInt(timeout.Microseconds(), 10)},
		Message: msg,
		Sender:  f.PID(),
	})
	done := make(chan struct{})
	var res any
	var ferr error
	go func() { res, ferr = f.Result(); close(done) }()
	var err error
	select {
	case <-done:
		if ferr == nil {
			return res, nil
		}
		// Timed out (ctx often ends at the same moment: max_time).
		err = ferr
	case <-ctx.Done():
		err = ctx.Err()
	}
	go func() {
		// Same actor system, so the same sender address as the request.
		if _, err := sys.Root.RequestFuture(pid, &actorpb.CancelRequest{Id: id}, 5*time.Second).Result(); err != nil && log != nil {
			log.Debug("could not cancel a request on another node", "node", pid.Address, "err", err)
		}
	}()
	return nil, err
}
