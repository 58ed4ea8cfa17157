package node

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
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
		go func() {
			res := a.n.Execute(context.Background(), m.Line, ExecOptions{Terminal: m.Terminal})
			rep := &actorpb.CommandReply{Text: res.Text, Json: res.JSON, Notices: res.Notices, Internal: res.Internal}
			if res.Err != nil {
				rep.Error = res.ErrorText()
			}
			sys.Root.Send(sender, rep)
		}()
	case *actorpb.CompleteRequest:
		ctx.Respond(&actorpb.CompleteReply{Names: a.n.CompleteNames(m.Prefix)})
	}
}

func (n *Node) startCommandActor() error {
	_, err := n.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &commandActor{n: n} }), CommandActorName)
	return err
}
