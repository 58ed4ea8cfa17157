package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/node/command"
)

// CommandActorName is the name of the actor that answers remote commands on
// a node's --listen address.
const CommandActorName = "command"

// commandActor runs commands sent over remote actor messages (the shell's
// --connect); each runs on its own goroutine so a long query does not hold
// up the others.
type commandActor struct{ n *Node }

func (a *commandActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actorpb.CommandRequest:
		sender, sys := ctx.Sender(), ctx.ActorSystem()
		if sender == nil {
			return
		}
		// Registered here, before any CancelRequest the sender sends next.
		cctx, done := a.n.startRemote(sender, m.Id)
		go func() {
			defer done()
			res := a.n.Execute(cctx, m.Line, ExecOptions{Terminal: m.Terminal, Job: m.Job})
			if askerGone(cctx) {
				return
			}
			rep := &actorpb.CommandReply{Text: res.Text, Json: res.JSON, Notices: res.Notices, Internal: res.Internal, Node: a.n.cfg.Name}
			if res.Err != nil {
				rep.Error = res.ErrorText()
			}
			sys.Root.Send(sender, rep)
		}()
	case *actorpb.CancelRequest:
		ctx.Respond(&actorpb.CancelReply{Found: a.n.cancelRemote(ctx.Sender(), m.Id)})
	case *actorpb.CompleteRequest:
		ctx.Respond(&actorpb.CompleteReply{Names: a.n.CompleteNames(m.Prefix)})
	case *actorpb.NodeInfoRequest:
		if !a.n.leaving.Load() {
			// A node learns who pings it, but only its own address (the
			// sender's), and only after pinging it back (learn).
			if s := ctx.Sender(); s != nil && s.Address == m.FromAddress {
				a.n.learn(m.FromAddress)
			}
			ctx.Respond(a.n.nodeInfo())
		}
	case *actorpb.NodeLeave:
		// Only a member leaves, and only for itself.
		if s := ctx.Sender(); s != nil && s.Address == m.Address {
			a.n.forget(m.Address)
		} else {
			a.n.log.Warn("ignored a NodeLeave for another node's address", "address", m.Address)
		}
		ctx.Respond(&actorpb.NodeLeave{})
	case *actorpb.PartialRequest:
		sender, sys := ctx.Sender(), ctx.ActorSystem()
		if sender == nil {
			return
		}
		maxTime := partialMaxTime(ctx.MessageHeader())
		pctx, done := a.n.startRemote(sender, m.Id)
		go func() {
			defer done()
			c, cancel := context.WithTimeout(pctx, maxTime)
			defer cancel()
			if rep := a.n.partialFor(c, m); !askerGone(pctx) {
				sys.Root.Send(sender, rep)
			}
		}()
	}
}

func (n *Node) startCommandActor() error {
	if _, err := n.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &commandActor{n: n} }), CommandActorName); err != nil {
		return err
	}
	n.watchAskers()
	return nil
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
			addr := ""
			for _, m := range n.livePeers() {
				if m.name == d {
					addr = m.address
				}
			}
			if addr == "" {
				return failf("run client: unknown node %q: name a live member (get nodes) or give its --listen address (HOST:PORT)", d)
			}
			d = addr
		}
		if n.remote == nil {
			return failf("run client (%s): this node has no remote endpoint; start it with --listen or --serve", d)
		}
		id := n.requestID()
		rep, err := n.ask(ctx, actor.NewPID(d, CommandActorName), &actorpb.CommandRequest{Line: r.Command, Terminal: opts.Terminal && !opts.REST, Id: id}, id, timeout)
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
