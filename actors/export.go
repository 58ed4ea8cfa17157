package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/kafka"
)

// ExportSpec is one export of query results to a Kafka topic: one message
// per value, keyed by the same index of Keys when Keys is not nil.
type ExportSpec struct {
	ID      int
	Brokers []string
	Topic   string
	Keys    [][]byte
	Values  [][]byte
	Logger  *slog.Logger
	// Compression is the codec of the plain export's record batches
	// (none, gzip, snappy, lz4 or zstd; "" is none). A since = last
	// export's producer (Txn) has its own.
	Compression string
	// Security is the TLS and SASL settings of the export's producer.
	Security kafka.Security
	// Txn, when set, sends Values in one transaction of that producer
	// (a since = last export) with Commits in every record's headers.
	Txn     *kafka.TxnExporter
	Commits kafka.Commits
}

// StartExport asks the node root to run an export; the reply, once every
// message is acknowledged (or the export failed), is an *ExportDone.
type StartExport struct{ Spec ExportSpec }

// ExportDone answers StartExport.
type ExportDone struct {
	Sent int
	Err  error
}

// exportActor owns the producer of one export. Its work (connecting,
// sending, waiting for every acknowledgement) runs in a worker whose
// result comes back as a message; a panic there becomes the export's
// error. Its supervisor (jobs) stops a failed export (stopStrategy); its
// Stopping case cancels the work and tells the asker, who is never left
// waiting.
type exportActor struct {
	hooks   *TestHooks
	spec    ExportSpec
	replyTo *actor.PID
	cancel  context.CancelFunc
	replied bool
}

// exportTimeout bounds one export.
const exportTimeout = 5 * time.Minute

func (a *exportActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		wctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		a.cancel = cancel
		spec, hooks := a.spec, a.hooks
		startWork(ctx, wctx, nil, func(c context.Context) error {
			hooks.beforeExport(spec.ID)
			return runExport(c, spec)
		})
	case *workDone:
		done := &ExportDone{Err: m.err}
		if m.err == nil {
			done.Sent = len(a.spec.Values)
		}
		a.reply(ctx, done)
		ctx.Stop(ctx.Self())
	case *actor.Stopping:
		if a.cancel != nil {
			a.cancel()
		}
		a.reply(ctx, &ExportDone{Err: errors.New("the export stopped before it finished")})
	}
}

func (a *exportActor) reply(ctx actor.Context, d *ExportDone) {
	if a.replied || a.replyTo == nil {
		return
	}
	a.replied = true
	ctx.Send(a.replyTo, d)
}

// runExport sends an export's messages and waits for their
// acknowledgements.
func runExport(c context.Context, spec ExportSpec) error {
	if spec.Txn != nil {
		return spec.Txn.Send(c, spec.Keys, spec.Values, spec.Commits)
	}
	p, err := kafka.NewExportProducer(c, spec.Brokers, spec.Topic, spec.Security, spec.Compression, spec.Logger)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.SendAll(c, spec.Topic, spec.Keys, spec.Values)
}

func spawnExport(ctx actor.Context, t *Tree, m *StartExport) error {
	spec, replyTo := m.Spec, ctx.Sender()
	props := actor.PropsFromProducer(func() actor.Actor { return &exportActor{hooks: t.cfg.Hooks, spec: spec, replyTo: replyTo} })
	_, err := ctx.SpawnNamed(props, "export-"+strconv.Itoa(m.Spec.ID))
	if err != nil {
		return fmt.Errorf("starting export %d: %w", m.Spec.ID, err)
	}
	return nil
}
