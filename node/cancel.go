package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/prometheus/client_golang/prometheus"
)

// Why a command or a query share stops early: the cause of its context
// (with the asker's address).
var (
	errCanceledByAsker = errors.New("canceled by its asker")
	errAskerGone       = errors.New("its asker's connection went away")
)

// remoteRuns are the commands and query shares that remote askers (a
// --connect client, a node running run client) started here and may still
// cancel: by a CancelRequest from the same asker, or by going away.
type remoteRuns struct {
	mu   sync.Mutex
	runs map[runKey]context.CancelCauseFunc
	// commands and partials count what runs now, for /metrics.
	commands, partials atomic.Int64
}

// runKey names a remote request: its sender's endpoint address (one per
// client process or node) and the sender's id for it.
type runKey struct {
	addr string
	id   uint64
}

// startRemote returns the context a remote request runs under, and the
// function that forgets it when it is done. A request without a sender or
// an id cannot be canceled by its asker (every request lakenode sends has
// one); a query share still runs in a query actor, under the deadline its
// asker sent and stopped by cancel query.
func (n *Node) startRemote(sender *actor.PID, id uint64) (context.Context, func()) {
	if sender == nil || id == 0 {
		return context.Background(), func() {}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	k := runKey{sender.Address, id}
	r := &n.remoteRuns
	r.mu.Lock()
	if r.runs == nil {
		r.runs = map[runKey]context.CancelCauseFunc{}
	}
	r.runs[k] = cancel
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.runs, k)
		r.mu.Unlock()
		cancel(nil)
	}
}

// cancelRemote cancels the sender's request id; false if it is not running.
func (n *Node) cancelRemote(sender *actor.PID, id uint64) bool {
	if sender == nil {
		return false
	}
	r := &n.remoteRuns
	r.mu.Lock()
	cancel, ok := r.runs[runKey{sender.Address, id}]
	r.mu.Unlock()
	if ok {
		cancel(fmt.Errorf("%w at %s", errCanceledByAsker, sender.Address))
	}
	return ok
}

// askerGone cancels every request of the asker at addr: its connection went
// away (the client exited, or the asking node stopped).
func (n *Node) askerGone(addr string) {
	r := &n.remoteRuns
	r.mu.Lock()
	var cancels []context.CancelCauseFunc
	for k, c := range r.runs {
		if k.addr == addr {
			cancels = append(cancels, c)
		}
	}
	r.mu.Unlock()
	for _, c := range cancels {
		c(fmt.Errorf("%w (%s)", errAskerGone, addr))
	}
	n.log.Debug("remote endpoint disconnected", "address", addr, "canceled", len(cancels))
}

// askerGone reports whether ctx was canceled because its asker went away:
// a reply would only make the node dial an address nobody listens on.
func askerGone(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errAskerGone) }

// watchAskers cancels the requests of askers whose connection goes away.
// protoactor publishes an EndpointTerminatedEvent when the stream to an
// address breaks (its process exited) or cannot be opened.
func (n *Node) watchAskers() {
	n.sys.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*remote.EndpointTerminatedEvent); ok {
			n.askerGone(t.Address)
		}
	})
}

// registerRunMetrics exports how many commands and query shares run now.
func (n *Node) registerRunMetrics() {
	r := &n.remoteRuns
	n.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lakenode_commands_running", Help: "Commands running now (shell, -c, REST, --connect, scheduler, other nodes)."},
			func() float64 { return float64(r.commands.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lakenode_query_shares_running", Help: "This node's shares of other nodes' run client () queries running now."},
			func() float64 { return float64(r.partials.Load()) }),
	)
}
