package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/node/command"
)

func (n *Node) dispatch(ctx context.Context, req command.Request, opts ExecOptions) Result {
	switch r := req.(type) {
	case *command.SetVar:
		n.mu.Lock()
		n.vars[r.Name] = r.Value
		n.mu.Unlock()
		return Result{}
	case *command.RunKafkaConsumer:
		return n.runConsumer(ctx, r.Spec)
	case *command.ExitKafka:
		return n.exitKafka(ctx)
	case *command.FlushBuffers:
		if err := n.catalog.Flush(ctx); err != nil {
			return internal(err)
		}
		return Result{}
	case *command.ConnectDBMS:
		n.mu.Lock()
		n.dbms[r.Name] = r.Type
		n.mu.Unlock()
		msg := fmt.Sprintf("connect dbms %s: lakenode keeps every table in its data dir", r.Name)
		if r.Type != "" {
			msg += fmt.Sprintf(" (type = %s is not used)", r.Type)
		}
		return notice(msg)
	case *command.SetBufferThreshold:
		return n.setThreshold(r)
	case *command.Ignored:
		return notice(r.Notice)
	case *command.HelpRequest:
		h, err := command.Help(r.Topic)
		if err != nil {
			return fail(err)
		}
		return text(h)
	case *command.Get:
		return n.get(r, opts)
	case *command.SQL:
		return n.runSQL(ctx, r, opts)
	case *command.RunClient:
		return failf("not supported by lakenode yet: run client (clusters are a later step)")
	}
	return internal(fmt.Errorf("no handler for %T", req))
}

func (n *Node) setThreshold(r *command.SetBufferThreshold) Result {
	if r.DBMS != "" || r.Table != "" {
		return failf("set buffer threshold: per-table thresholds are not supported by lakenode; omit dbms and table to set the node's thresholds")
	}
	n.mu.Lock()
	th := n.thresholds
	if r.HasTime {
		th.Time = r.Time
	}
	if r.HasVolume {
		th.Volume = r.Volume
	}
	if r.HasWriteImmediate && r.WriteImmediate {
		th = actors.Thresholds{}
	}
	n.thresholds = th
	n.mu.Unlock()
	if th.Time == 0 && th.Volume > 0 {
		return notice("set buffer threshold: a volume without a time commits as soon as rows arrive; give a time to hold rows back")
	}
	return Result{Notices: nil, Text: strings.TrimSpace("")}
}
