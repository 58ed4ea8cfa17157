package node

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/node/command"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// sinceExport is one run of a `since = last` export: the job's producer,
// the commit vector its last committed transaction covered (read back from
// the target topic) and the vector this run covers.
//
// Every node numbers the commits of each table (tsd_id, stored with the
// rows). A run asks each node for the rows of commits after the job's last
// vector entry for that node, up to the table's current commit, and sends
// them in one transaction whose records carry the new vector. After a crash
// the next run fences the old producer (aborting its open transaction) and
// reads the vector back from the topic, so every row is sent exactly once.
type sinceExport struct {
	x    *kafka.TxnExporter
	job  string
	last kafka.Commits
	next kafka.Commits
}

// exportJob names a since = last export: the scheduler task running it,
// else DBMS.TABLE:TOPIC.
func exportJob(q *command.SQL, table string, opts ExecOptions) string {
	if opts.Job != "" {
		return opts.Job
	}
	return q.DBMS + "." + table + ":" + q.Options.Topic
}

// openSince starts a since = last run: it connects the job's transactional
// producer and learns where the job stopped.
func (n *Node) openSince(ctx context.Context, q *command.SQL, opts ExecOptions) (*sinceExport, error) {
	table, err := lsql.TableOf(q.Query)
	if err != nil {
		return nil, err
	}
	broker := strings.TrimPrefix(q.Options.Dest, "kafka@")
	job := exportJob(q, table, opts)
	sec, err := n.kafkaSecurity(q.Options.Kafka)
	if err != nil {
		return nil, fmt.Errorf("since = last: %w", err)
	}
	x, err := kafka.NewTxnExporter(ctx, []string{broker}, q.Options.Topic, job, sec, q.Options.Compression, n.log)
	if err != nil {
		return nil, fmt.Errorf("since = last: %w", err)
	}
	last, err := x.LastCommits(ctx)
	if err != nil {
		x.Close()
		return nil, fmt.Errorf("since = last: finding where export %q stopped: %w", job, err)
	}
	return &sinceExport{x: x, job: job, last: last, next: maps.Clone(last)}, nil
}

func (s *sinceExport) close() {
	if s != nil {
		s.x.Close()
	}
}
