package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/node/command"
)

// CommandActorName is the name of the actor that answers remote commands on
// a node's --listen address.
const CommandActorName = cluster.CommandActorName

// The command actor is the node's single entry for commands: the shell,
// -c and -f, the REST port and the scheduler (through Execute), --connect
// clients and other nodes (remote messages). It never blocks in Receive:
// each command runs in a worker whose Result comes back to it as a message,
// which it hands to the caller; a json:output reply streams from the
// worker to the caller's writer as the rows come. It also answers the
// cluster's heartbeats, and hands other nodes' query shares to the queries
// supervisor.
type commandActor struct{ n *Node }

// execRequest is a local caller's command (Execute); the Result goes to
// reply.
type execRequest struct {
	ctx   context.Context
	line  string
	opts  ExecOptions
	reply chan<- Result
}

// remoteAsk is a command or query share that a remote asker (a --connect
// client, another node) may cancel: done forgets it.
type remoteAsk struct {
	sender *actor.PID
	ctx    context.Context
	done   func()
}

// commandDone is a worker's Result for a remote caller (a local caller's
// goes straight to its reply channel).
type commandDone struct {
	res    Result
	remote *remoteAsk
}

// shareDone is a worker's answer to another node's PartialRequest.
type shareDone struct {
	rep    *actorpb.PartialReply
	remote *remoteAsk
}

func (a *commandActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *execRequest:
		a.run(ctx, m.ctx, m.line, m.opts, m.reply, nil)
	case *actorpb.CommandRequest:
		if s := ctx.Sender(); s != nil {
			// Registered here, before any CancelRequest the sender sends next.
			cctx, done := a.n.startRemote(s, m.Id)
			a.run(ctx, cctx, m.Line, ExecOptions{Terminal: m.Terminal, Job: m.Job}, nil, &remoteAsk{s, cctx, done})
		}
	case *commandDone:
		a.deliver(ctx, m)
	case *actorpb.PartialRequest:
		if s := ctx.Sender(); s != nil {
			pctx, done := a.n.startRemote(s, m.Id)
			a.share(ctx, m, cluster.MaxTime(ctx.MessageHeader()), &remoteAsk{s, pctx, done})
		}
	case *shareDone:
		m.remote.done()
		if !askerGone(m.remote.ctx) {
			ctx.Send(m.remote.sender, m.rep)
		}
	case *actorpb.CancelRequest:
		ctx.Respond(&actorpb.CancelReply{Found: a.n.cancelRemote(ctx.Sender(), m.Id)})
	case *actorpb.CompleteRequest:
		ctx.Respond(&actorpb.CompleteReply{Names: a.n.CompleteNames(m.Prefix)})
	case *actorpb.NodeInfoRequest:
		if rep := a.n.members.Load().HandleInfo(ctx.Sender(), m); rep != nil {
			ctx.Respond(rep)
		}
	case *actorpb.NodeLeave:
		a.n.members.Load().HandleLeave(ctx.Sender(), m)
		ctx.Respond(&actorpb.NodeLeave{})
	}
}

// run starts a command's worker.
func (a *commandActor) run(ctx actor.Context, cctx context.Context, line string, opts ExecOptions, reply chan<- Result, remote *remoteAsk) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	go func() {
		res := a.n.execute(cctx, line, opts)
		if reply != nil {
			// A local caller's channel (buffered) takes it straight
			// from the worker: a node stopping may have stopped this
			// actor by now, and the caller still gets the command's own
			// answer ("query canceled"), not "the node stopped".
			reply <- res
			return
		}
		sys.Root.Send(self, &commandDone{res: res, remote: remote})
	}()
}

// deliver hands a remote command's Result to its caller.
func (a *commandActor) deliver(ctx actor.Context, m *commandDone) {
	m.remote.done()
	if askerGone(m.remote.ctx) {
		// A reply would only make the node dial an address nobody
		// listens on.
		return
	}
	res := m.res
	rep := &actorpb.CommandReply{Text: res.Text, Json: res.JSON, Notices: res.Notices, Internal: res.Internal, Node: a.n.cfg.Name}
	if res.Err != nil {
		rep.Error = res.ErrorText()
	}
	ctx.Send(m.remote.sender, rep)
}

// share runs this node's share of another node's query as a query actor
// (listed by get queries), stopped when the asker cancels it or goes away,
// or when the time the asker waits has passed.
func (a *commandActor) share(ctx actor.Context, m *actorpb.PartialRequest, maxTime time.Duration, remote *remoteAsk) {
	self, sys, n := ctx.Self(), ctx.ActorSystem(), a.n
	go func() {
		n.remoteRuns.partials.Add(1)
		defer n.remoteRuns.partials.Add(-1)
		w := &actors.ShareQuery{Store: n.store, Node: n.cfg.Name, Req: m}
		what := "share of a query"
		if m.PeriodProbe {
			what = "period() probe of a query"
		}
		origin := remote.sender.Address
		if name, ok := n.members.Load().NameAt(origin); ok {
			origin = name
		}
		err := actors.RunQuery(sys, n.queries, actors.QuerySpec{
			Text: fmt.Sprintf("%s: sql %s %q", what, m.Dbms, clip(m.Query, caretContext)), Origin: origin, Share: true,
			Parent: remote.ctx, MaxTime: maxTime, Logger: n.log, Work: w,
		})
		rep := w.Reply
		if rep == nil {
			rep = &actorpb.PartialReply{Node: n.cfg.Name}
		}
		if err != nil && rep.Error == "" {
			rep.Error = err.Error()
		}
		sys.Root.Send(self, &shareDone{rep: rep, remote: remote})
	}()
}

// startActors starts the queries supervisor and the command actor under
// the node root: both run for as long as the node, with or without
// --listen.
func (n *Node) startActors() error {
	var err error
	if n.queries, err = n.spawnChild(actors.QueriesProps(), actors.QueriesName); err != nil {
		return err
	}
	if n.commands, err = n.spawnChild(actor.PropsFromProducer(func() actor.Actor { return &commandActor{n: n} }), commandActorChild); err != nil {
		return err
	}
	if n.commands.Id != CommandActorName {
		return fmt.Errorf("the command actor started as %q, not %q: other nodes and --connect clients address it by that name", n.commands.Id, CommandActorName)
	}
	n.down = make(chan struct{})
	return nil
}

// commandActorChild is the command actor's name under the node root.
const commandActorChild = "command"

// spawnChild starts a child of the node root.
func (n *Node) spawnChild(props *actor.Props, name string) (*actor.PID, error) {
	res, err := n.sys.Root.RequestFuture(n.tree.Root, &actors.SpawnChild{Props: props, Name: name}, 10*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	switch r := res.(type) {
	case *actors.ChildStarted:
		return r.PID, nil
	case *actors.StartFailed:
		return nil, r.Err
	}
	return nil, fmt.Errorf("starting %s: unexpected reply %T", name, res)
}

// runClient runs `run client (...) COMMAND`. With `()` the command is a
// query for every node hosting its table: without a cluster, that is this
// node. Explicit destinations (this node's name or --listen address, or
// other nodes' --listen addresses) each run the command, and every reply is
// printed under a [From Node NAME] line.
func (n *Node) runClient(ctx context.Context, r *command.RunClient, opts ExecOptions) Result {
	if len(r.Dests) == 0 {
		if q, ok := r.Inner.(*command.SQL); ok {
			return n.clusterQuery(ctx, r, q, opts)
		}
		return n.dispatch(ctx, r.Inner, opts)
	}
	// Replies are printed one after another under their node's name: none
	// streams.
	opts.Stream = nil
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	var out strings.Builder
	res := Result{}
	var failed []string
	for _, d := range r.Dests {
		if d == n.cfg.Name || d == n.cfg.ListenAddr {
			one := n.dispatch(ctx, r.Inner, opts)
			fmt.Fprintf(&out, "[From Node %s]\n", n.cfg.Name)
			res.Notices = append(res.Notices, one.Notices...)
			if one.Err != nil {
				fmt.Fprintf(&out, "%s\n", one.ErrorText())
				failed = append(failed, n.cfg.Name)
			} else {
				out.WriteString(withNewline(one.Text))
			}
			continue
		}
		if _, _, err := net.SplitHostPort(d); err != nil {
			// A node name: look it up among the live members.
			addr, ok := n.members.Load().Address(d)
			if !ok {
				return failf("run client: unknown node %q: name a live member (get nodes) or give its --listen address (HOST:PORT)", d)
			}
			d = addr
		}
		if n.remote == nil {
			return failf("run client (%s): this node has no remote endpoint; start it with --listen or --serve", d)
		}
		id := cluster.RequestID()
		rep, err := cluster.Ask(ctx, n.sys, n.log, actor.NewPID(d, CommandActorName), &actorpb.CommandRequest{Line: r.Command, Terminal: opts.Terminal && !opts.REST, Id: id}, id, timeout)
		if ctx.Err() != nil {
			return failf("run client: canceled while waiting for node %s (it was told to stop the command)", d)
		}
		if err != nil {
			if r.Subset {
				fmt.Fprintf(&out, "[From Node %s]\nno reply within %v: %v\n", d, timeout, err)
				failed = append(failed, d)
				continue
			}
			return failf("run client: node %s did not answer within %v: %v", d, timeout, err)
		}
		cr, ok := rep.(*actorpb.CommandReply)
		if !ok {
			return internal(fmt.Errorf("run client: unexpected reply %T from %s", rep, d))
		}
		fmt.Fprintf(&out, "[From Node %s]\n", cr.Node)
		res.Notices = append(res.Notices, cr.Notices...)
		if cr.Error != "" {
			out.WriteString(withNewline(cr.Error))
			failed = append(failed, cr.Node)
		} else {
			out.WriteString(withNewline(cr.Text))
		}
	}
	res.Text = out.String()
	if len(failed) > 0 && !r.Subset {
		res.Err = fmt.Errorf("run client: the command failed on %s\n%s", strings.Join(failed, ", "), res.Text)
	}
	return res
}

func withNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
