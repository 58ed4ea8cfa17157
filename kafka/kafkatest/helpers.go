package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakenode/lakenode/kafka"
)

// Time limits of the helpers.
const (
	adminTimeout   = 30 * time.Second
	produceTimeout = 2 * time.Minute
	pollInterval   = 50 * time.Millisecond
)

// CreateTopic creates a topic with replication factor 1 (an existing topic
// is fine) and waits until every partition of it has a leader.
func CreateTopic(t testing.TB, b *Broker, name string, partitions int32) {
	t.Helper()
	if err := createTopic(b, name, partitions); err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
}

func createTopic(b *Broker, name string, partitions int32) error {
	cl, err := b.newClient()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s: %w", name, err)
	}
	for {
		md, err := adm.Metadata(ctx, name)
		if err == nil {
			err = topicLed(md, name)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s has no leaders after %v: %w", name, adminTimeout, err)
		case <-time.After(pollInterval):
		}
	}
}

// topicLed reports whether metadata shows topic with a leader for each of its
// partitions.
func topicLed(md kadm.Metadata, topic string) error {
	td, ok := md.Topics[topic]
	if !ok {
		return errors.New("not in the metadata")
	}
	if td.Err != nil {
		return td.Err
	}
	if len(td.Partitions) == 0 {
		return errors.New("no partitions")
	}
	for _, p := range td.Partitions {
		if p.Err != nil {
			return fmt.Errorf("partition %d: %w", p.Partition, p.Err)
		}
		if p.Leader < 0 {
			return fmt.Errorf("partition %d has no leader", p.Partition)
		}
	}
	return nil
}

// Produce sends values to topic (without keys) and returns once the broker
// acknowledged all of them.
func Produce(t testing.TB, b *Broker, topic string, values ...[]byte) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: v}
	}
	ProduceRecords(t, b, recs...)
}

// ProduceValues is Produce returning its error, for goroutines other than
// the test's own (where t.Fatalf must not be called).
func ProduceValues(b *Broker, topic string, values ...[]byte) error {
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: v}
	}
	return produce(b, recs)
}

// ConsumeCommitted returns every committed record of topic (read_committed:
// records of aborted transactions are left out), up to each partition's
// last stable offset.
func ConsumeCommitted(t testing.TB, b *Broker, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), produceTimeout)
	defer cancel()
	recs, err := kafka.ReadCommitted(ctx, []string{b.Addr()}, topic, kafka.Security{})
	if err != nil {
		t.Fatalf("kafkatest: reading %s: %v", topic, err)
	}
	return recs
}

// ProduceRecords sends records with an idempotent producer that waits for
// all in-sync replicas, and returns once all are acknowledged (within two
// minutes, retrying while the broker is unavailable).
func ProduceRecords(t testing.TB, b *Broker, recs ...*kgo.Record) {
	t.Helper()
	if err := produce(b, recs); err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
}

func produce(b *Broker, recs []*kgo.Record) error {
	cl, err := b.newClient(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), produceTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing %d records: %w", len(recs), err)
	}
	return nil
}

// EndOffsets returns the end offset (the next offset to be written) of each
// partition of topic.
func EndOffsets(t testing.TB, b *Broker, topic string) map[int32]int64 {
	t.Helper()
	offs, err := endOffsets(b, topic)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return offs
}

func endOffsets(b *Broker, topic string) (map[int32]int64, error) {
	cl, err := b.newClient()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64)
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("listing the end offsets of %s: no partitions", topic)
	}
	return out, nil
}

// ConsumeAll reads topic from the start of every partition, without a
// consumer group, until it has at least n records, and returns them (in the
// order they arrived; ordered within a partition). It fails the test if n
// records do not arrive within timeout.
func ConsumeAll(t testing.TB, b *Broker, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	recs, err := consumeAll(b, topic, n, timeout)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return recs
}

func consumeAll(b *Broker, topic string, n int, timeout time.Duration) ([]*kgo.Record, error) {
	cl, err := b.newClient(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	var last error
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("consumed %d of %d records of %s within %v (last error: %v)", len(out), n, topic, timeout, last)
		}
		for _, e := range fs.Errors() {
			last = fmt.Errorf("partition %d: %w", e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out, nil
}

// WaitFor polls cond every 50 ms until it returns true, and fails the test
// with the message format, args if that takes longer than timeout.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("kafkatest: waited %v for %s", timeout, fmt.Sprintf(format, args...))
			return
		}
		time.Sleep(pollInterval)
	}
}

// CommittedOffsets returns the offsets group has committed for topic, by
// partition (partitions without a commit are absent).
func CommittedOffsets(t testing.TB, b *Broker, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := b.newClient()
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	resp, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("kafkatest: committed offsets of group %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range resp[topic] {
		out[p] = o.At
	}
	return out
}
