package actors

import (
	"context"
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

type exportFinished struct{ done *ExportDone }

// exportActor owns the producer of one export.
type exportActor struct {
	spec    ExportSpec
	replyTo *actor.PID
}

func (a *exportActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		self, sys, spec := ctx.Self(), ctx.ActorSystem(), a.spec
		go func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			done := &ExportDone{}
			var err error
			if spec.Txn != nil {
				err = spec.Txn.Send(c, spec.Keys, spec.Values, spec.Commits)
			} else {
				var p *kafka.Producer
				p, err = kafka.NewExportProducer(c, spec.Brokers, spec.Topic, spec.Security, spec.Compression, spec.Logger)
				if err == nil {
					err = p.SendAll(c, spec.Topic, spec.Keys, spec.Values)
					p.Close()
				}
			}
			if err != nil {
				done.Err = err
			} else {
				done.Sent = len(spec.Values)
			}
			sys.Root.Send(self, &exportFinished{done: done})
		}()
	case *exportFinished:
		ctx.Send(a.replyTo, m.done)
		ctx.Stop(ctx.Self())
	}
}

func spawnExport(ctx actor.Context, m *StartExport) error {
	props := actor.PropsFromProducer(func() actor.Actor { return &exportActor{spec: m.Spec, replyTo: ctx.Sender()} })
	_, err := ctx.SpawnNamed(props, "export-"+strconv.Itoa(m.Spec.ID))
	if err != nil {
		return fmt.Errorf("starting export %d: %w", m.Spec.ID, err)
	}
	return nil
}
