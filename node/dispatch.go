package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/node/command"
)

func (n *Node) dispatch(ctx context.Context, req command.Request, opts ExecOptions) Result {
	switch r := req.(type) {
	case *command.SetVar:
		n.varsMu.Lock()
		n.vars[r.Name] = r.Value
		n.varsMu.Unlock()
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
		n.dbmsMu.Lock()
		n.dbms[r.Name] = r.Type
		n.dbmsMu.Unlock()
		msg := fmt.Sprintf("connect dbms %s: lakenode keeps every table in its data dir", r.Name)
		if r.Type != "" {
			msg += fmt.Sprintf(" (type = %s is not used)", r.Type)
		}
		return notice(msg)
	case *command.RunScheduler:
		return n.runScheduler(r.ID)
	case *command.ExitScheduler:
		return n.exitScheduler(r.ID)
	case *command.Schedule:
		return n.schedule(r)
	case *command.TaskControl:
		return n.taskControl(ctx, r)
	case *command.DropTable:
		return n.dropTable(r)
	case *command.Backup:
		return n.backup(r)
	case *command.ResetOffsets:
		return n.resetOffsets(ctx, r)
	case *command.SetRetention:
		return n.setRetention(ctx, r)
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
		if r.What == "queries" {
			return n.getQueries(r, opts)
		}
		return n.get(r, opts)
	case *command.CancelQuery:
		return n.cancelQuery(r)
	case *command.SQL:
		return n.runSQL(ctx, r, opts)
	case *command.RunClient:
		return n.runClient(ctx, r, opts)
	}
	return internal(fmt.Errorf("no handler for %T", req))
}

func (n *Node) setThreshold(r *command.SetBufferThreshold) Result {
	if r.DBMS != "" || r.Table != "" {
		return failf("set buffer threshold: per-table thresholds are not supported by lakenode; omit dbms and table to set the node's thresholds")
	}
	n.thresholdsMu.Lock()
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
	n.thresholdsMu.Unlock()
	if th.Time == 0 && th.Volume > 0 {
		return notice("set buffer threshold: a volume without a time commits as soon as rows arrive; give a time to hold rows back")
	}
	return Result{Notices: nil, Text: strings.TrimSpace("")}
}

// dropTable deletes a table. A consumer still mapping into it would
// recreate it: stop it first.
func (n *Node) dropTable(r *command.DropTable) Result {
	for _, c := range n.consumerStatuses() {
		for _, t := range c.Spec.Topics {
			if t.DBMS.Literal == r.DBMS && t.Table.Literal == r.Table {
				return failf("drop table %s.%s: consumer %d writes into it; run `exit kafka` first", r.DBMS, r.Table, c.ID)
			}
		}
	}
	if _, ok := n.store.Table(r.DBMS, r.Table); !ok {
		return failf("table %s.%s does not exist%s", r.DBMS, r.Table, n.suggestTable(r.DBMS, r.Table))
	}
	n.catalog.Forget(r.DBMS + "." + r.Table)
	if err := n.store.DropTable(r.DBMS, r.Table); err != nil {
		return internal(err)
	}
	return text(fmt.Sprintf("table %s.%s dropped", r.DBMS, r.Table))
}

// setRetention sets a table's retention and expires what is already too
// old; the node then expires rows every 30 s.
func (n *Node) setRetention(ctx context.Context, r *command.SetRetention) Result {
	t, err := n.store.SetRetention(r.DBMS, r.Table, r.Keep)
	if err != nil {
		return failf("set retention: %v%s", err, n.suggestTable(r.DBMS, r.Table))
	}
	if r.Keep == 0 {
		return text(fmt.Sprintf("%s keeps its rows forever", t.FullName()))
	}
	deleted, err := n.store.Expire(ctx, t, time.Now().Add(-r.Keep).UnixMicro())
	if err != nil {
		return internal(err)
	}
	return text(fmt.Sprintf("%s keeps %s of rows; %d older rows deleted", t.FullName(), r.Keep, deleted))
}

// expireLoop applies retention every interval until ctx ends.
func (n *Node) expireLoop(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, t := range n.store.Tables() {
			if t.Retention <= 0 {
				continue
			}
			if d, err := n.store.Expire(ctx, t, time.Now().Add(-t.Retention).UnixMicro()); err != nil {
				n.event("retention", fmt.Sprintf("expiring rows of %s: %v", t.FullName(), err))
			} else if d > 0 {
				n.log.Info("rows expired", "table", t.FullName(), "rows", d)
			}
		}
	}
}
