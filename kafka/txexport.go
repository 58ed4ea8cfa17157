package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Header keys of the records of a `since = last` export. Every record of one
// transaction carries the job and the commit vector the transaction covers,
// so the target topic itself says where the job stopped.
const (
	HeaderExportJob     = "lakenode-export"
	HeaderExportCommits = "lakenode-commits"
)

// Commits is a commit vector: for each node, the last commit sequence number
// of the table that an export covered.
type Commits map[string]uint64

// Merge raises c to o, node by node.
func (c Commits) Merge(o Commits) {
	for k, v := range o {
		if v > c[k] {
			c[k] = v
		}
	}
}

// TxnExporter is a transactional producer for one export job: each Send is
// one transaction, and a new TxnExporter for the same job fences the
// previous one (a crashed run's open transaction is aborted, a committing
// one completed) before it reads where the job stopped.
type TxnExporter struct {
	cl      *kgo.Client
	brokers string
	topic   string
	job     string
	sec     Security
}

// TxnID is the transactional id of a job's producer.
func TxnID(job string) string { return "lakenode-export-" + job }

// NewTxnExporter connects the job's transactional producer, writing record
// batches with the given compression ("" is none), and makes sure topic
// exists: a missing one is created if the broker allows auto-creation.
func NewTxnExporter(ctx context.Context, brokers []string, topic, job string, sec Security, compression string, logger *slog.Logger) (*TxnExporter, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	comp, err := compressionOpt(compression)
	if err != nil {
		return nil, err
	}
	all := strings.Join(brokers, ",")
	cl, err := sec.newClient(
		kgo.SeedBrokers(brokers...),
		kgo.TransactionalID(TxnID(job)),
		kgo.TransactionTimeout(time.Minute),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RetryBackoffFn(backoff),
		kgo.WithLogger(slogLogger{logger}),
		comp,
		newExportPartitioner(),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka: creating producer: %w", err)
	}
	if err := ensureTopic(ctx, cl, all, topic, sec); err != nil {
		cl.Close()
		return nil, err
	}
	return &TxnExporter{cl: cl, brokers: all, topic: topic, job: job, sec: sec}, nil
}

// Close closes the producer; an open transaction is aborted by the broker.
func (x *TxnExporter) Close() { x.cl.Close() }

// LastCommits fences earlier producers of the job and returns the commit
// vector of the job's last committed transaction in the topic (empty if it
// never committed one). Each partition is read backwards from its last
// stable offset, in growing windows, until a record of the job is found.
func (x *TxnExporter) LastCommits(ctx context.Context) (Commits, error) {
	// Loading the producer id fences the job's previous producer and makes
	// the coordinator finish its last transaction, so the last stable
	// offsets below already include it (or it is aborted).
	if _, _, err := x.cl.ProducerID(ctx); err != nil {
		return nil, fmt.Errorf("kafka: starting the transactional producer of export %s on %s: %w", x.job, x.brokers, x.sec.Explain(err))
	}
	adm := kadm.NewClient(x.cl)
	md, err := adm.Metadata(ctx, x.topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: metadata of %s: %w", x.topic, err)
	}
	td := md.Topics[x.topic]
	if td.Err != nil {
		return nil, fmt.Errorf("kafka: topic %s: %w", x.topic, td.Err)
	}
	ends, err := x.stableEnds(ctx, adm)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, x.topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: start offsets of %s: %w", x.topic, err)
	}
	out := Commits{}
	for p, pd := range td.Partitions {
		end, ok := ends.Lookup(x.topic, p)
		if !ok || end.Err != nil {
			return nil, fmt.Errorf("kafka: last stable offset of %s/%d: %v", x.topic, p, end.Err)
		}
		start, ok := starts.Lookup(x.topic, p)
		if !ok || start.Err != nil {
			return nil, fmt.Errorf("kafka: start offset of %s/%d: %v", x.topic, p, start.Err)
		}
		for window := int64(512); ; window *= 8 {
			from := max(start.Offset, end.Offset-window)
			c, found, err := x.scan(ctx, td, pd.Leader, p, from, end.Offset)
			if err != nil {
				return nil, err
			}
			if found {
				out.Merge(c)
				break
			}
			if from <= start.Offset {
				break
			}
		}
	}
	return out, nil
}

// stableWait bounds how long LastCommits waits for other producers' open
// transactions on the topic.
const stableWait = 90 * time.Second

// stableEnds waits until each partition's last stable offset reaches the
// high watermark seen now, and returns the last stable offsets. Another
// producer's open transaction holds the last stable offset back; records of
// this job committed after its start would be missed, and their rows sent
// twice, if the read stopped there.
func (x *TxnExporter) stableEnds(ctx context.Context, adm *kadm.Client) (kadm.ListedOffsets, error) {
	hw, err := adm.ListEndOffsets(ctx, x.topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: end offsets of %s: %w", x.topic, err)
	}
	deadline := time.Now().Add(stableWait)
	for {
		lso, err := adm.ListCommittedOffsets(ctx, x.topic)
		if err != nil {
			return nil, fmt.Errorf("kafka: last stable offsets of %s: %w", x.topic, err)
		}
		behind := -1
		hw.Each(func(o kadm.ListedOffset) {
			if l, ok := lso.Lookup(o.Topic, o.Partition); o.Err == nil && (!ok || l.Offset < o.Offset) {
				behind = int(o.Partition)
			}
		})
		if behind < 0 {
			return lso, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kafka: partition %d of %s has had an open transaction of another producer for %v; the export's position cannot be read until it ends (try again)", behind, x.topic, stableWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scan reads partition p from offset from to end (read_committed) and returns
// the commit vector of the job's last record there.
func (x *TxnExporter) scan(ctx context.Context, td kadm.TopicDetail, leader int32, p int32, from, end int64) (Commits, bool, error) {
	var last Commits
	found := false
	var bad error
	err := readCommitted(ctx, x.cl, td, leader, p, from, end, func(r *kgo.Record) {
		c, ok, cerr := x.recordCommits(r)
		if cerr != nil && bad == nil {
			bad = fmt.Errorf("kafka: %s/%d offset %d: %w", td.Topic, p, r.Offset, cerr)
		}
		if ok {
			last, found = c, true
		}
	})
	if err == nil {
		err = bad
	}
	return last, found, err
}

// readCommitted reads partition p of td from offset from to end with
// read_committed isolation (aborted transactions and control records
// skipped), by fetching from the partition's leader directly so that the
// end is known exactly.
func readCommitted(ctx context.Context, cl *kgo.Client, td kadm.TopicDetail, leader int32, p int32, from, end int64, fn func(*kgo.Record)) error {
	dec := kgo.DefaultDecompressor()
	for off := from; off < end; {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxWaitMillis = 100
		req.MinBytes = 1
		req.MaxBytes = 16 << 20
		req.IsolationLevel = 1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = td.Topic
		rt.TopicID = td.ID
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p
		rp.FetchOffset = off
		rp.PartitionMaxBytes = 8 << 20
		rp.CurrentLeaderEpoch = -1
		rp.LogStartOffset = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		kresp, err := cl.Broker(int(leader)).RetriableRequest(ctx, req)
		if err != nil {
			return fmt.Errorf("kafka: reading %s/%d at %d: %w", td.Topic, p, off, err)
		}
		resp := kresp.(*kmsg.FetchResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("kafka: reading %s/%d at %d: %w", td.Topic, p, off, err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return fmt.Errorf("kafka: reading %s/%d at %d: unexpected fetch response", td.Topic, p, off)
		}
		fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
			Offset: off, IsolationLevel: kgo.ReadCommitted(), Topic: td.Topic, Partition: p,
		}, &resp.Topics[0].Partitions[0], dec, nil)
		if fp.Err != nil {
			return fmt.Errorf("kafka: reading %s/%d at %d: %w", td.Topic, p, off, fp.Err)
		}
		for _, r := range fp.Records {
			if r.Offset < end {
				fn(r)
			}
		}
		if next <= off {
			return fmt.Errorf("kafka: reading %s/%d: no progress at offset %d (last stable offset %d)", td.Topic, p, off, end)
		}
		off = next
	}
	return nil
}

// ReadCommitted returns every committed record of topic, partition by
// partition, up to each partition's last stable offset.
func ReadCommitted(ctx context.Context, brokers []string, topic string, sec Security) ([]*kgo.Record, error) {
	cl, err := sec.newClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: metadata of %s: %w", topic, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return nil, fmt.Errorf("kafka: topic %s: %v", topic, td.Err)
	}
	ends, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	var out []*kgo.Record
	for p, pd := range td.Partitions {
		end, _ := ends.Lookup(topic, p)
		start, _ := starts.Lookup(topic, p)
		if end.Err != nil || start.Err != nil {
			return nil, fmt.Errorf("kafka: offsets of %s/%d: %v %v", topic, p, end.Err, start.Err)
		}
		if err := readCommitted(ctx, cl, td, pd.Leader, p, start.Offset, end.Offset, func(r *kgo.Record) { out = append(out, r) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (x *TxnExporter) recordCommits(r *kgo.Record) (Commits, bool, error) {
	var job, vec []byte
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderExportJob:
			job = h.Value
		case HeaderExportCommits:
			vec = h.Value
		}
	}
	if string(job) != x.job || vec == nil {
		return nil, false, nil
	}
	var c Commits
	if err := json.Unmarshal(vec, &c); err != nil {
		// Falling back to an older vector would send rows twice.
		return nil, false, fmt.Errorf("unreadable %s header of export %s: %w", HeaderExportCommits, x.job, err)
	}
	return c, true, nil
}

// Send produces values (keyed by keys[i] when keys is not nil) in one
// transaction whose records carry the job and commits headers, and returns once the transaction is committed.
// On an error while producing the transaction is aborted: none of the values
// is visible to read_committed consumers. On an error from the commit itself
// the outcome is unknown; the next run's LastCommits tells.
func (x *TxnExporter) Send(ctx context.Context, keys, values [][]byte, commits Commits) error {
	vec, err := json.Marshal(commits)
	if err != nil {
		return err
	}
	hdrs := []kgo.RecordHeader{{Key: HeaderExportJob, Value: []byte(x.job)}, {Key: HeaderExportCommits, Value: vec}}
	if err := x.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("kafka: beginning a transaction on %s: %w", x.brokers, err)
	}
	if first := produceAll(ctx, x.cl, x.topic, keys, values, hdrs); first != nil {
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = x.cl.EndTransaction(actx, kgo.TryAbort)
		return fmt.Errorf("kafka: producing to %s: %w", x.topic, first)
	}
	if err := x.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		// The commit may or may not have happened; aborting settles the
		// producer, and the next run reads back which.
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = x.cl.EndTransaction(actx, kgo.TryAbort)
		return fmt.Errorf("kafka: committing the transaction to %s (whether it was committed is unknown until the next run reads the topic back): %w", x.topic, err)
	}
	return nil
}
