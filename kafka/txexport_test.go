package kafka

import (
	"context"
	"fmt"
	"maps"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newCluster(t *testing.T, topic string, partitions int32) []string {
	t.Helper()
	return newFakeCluster(t, topic, partitions).ListenAddrs()
}

// newFakeCluster is newCluster's cluster, for tests that control its
// requests.
func newFakeCluster(t *testing.T, topic string, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic), kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func values(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(strconv.Itoa(from + i))
	}
	return out
}

// TestTxnExporterRecovers runs a job's transactions, abandons one in the
// middle as a crashed node would, and checks that the next producer of the
// job fences it (its records never become visible) and reads back the
// vector of the last committed transaction.
func TestTxnExporterRecovers(t *testing.T) {
	const topic = "out"
	brokers := newCluster(t, topic, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	x, err := NewTxnExporter(ctx, brokers, topic, "job-a", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := x.LastCommits(ctx); err != nil || len(c) != 0 {
		t.Fatalf("fresh job: commits %v, err %v", c, err)
	}
	if err := x.Send(ctx, nil, values(0, 100), Commits{"n1": 4, "n2": 7}); err != nil {
		t.Fatal(err)
	}
	if err := x.Send(ctx, nil, values(100, 50), Commits{"n1": 6, "n2": 7}); err != nil {
		t.Fatal(err)
	}
	// Another job writing to the same topic does not confuse this one.
	y, err := NewTxnExporter(ctx, brokers, topic, "job-b", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := y.LastCommits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := y.Send(ctx, nil, values(1000, 10), Commits{"n1": 99}); err != nil {
		t.Fatal(err)
	}
	y.Close()

	// A transaction left open: records produced and flushed, never committed.
	if err := x.cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values(150, 30) {
		x.cl.Produce(ctx, &kgo.Record{Topic: topic, Value: v, Headers: []kgo.RecordHeader{
			{Key: HeaderExportJob, Value: []byte("job-a")}, {Key: HeaderExportCommits, Value: []byte(`{"n1":9,"n2":9}`)},
		}}, nil)
	}
	if err := x.cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// x is abandoned here, as by kill -9.

	x2, err := NewTxnExporter(ctx, brokers, topic, "job-a", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	got, err := x2.LastCommits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Commits{"n1": 6, "n2": 7}); !maps.Equal(got, want) {
		t.Fatalf("after the crash: commits %v, want %v", got, want)
	}
	if err := x2.Send(ctx, nil, values(150, 30), Commits{"n1": 9, "n2": 9}); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadCommitted(ctx, brokers, topic, Security{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Value)]++
	}
	for i := range 180 {
		if n := seen[strconv.Itoa(i)]; n != 1 {
			t.Fatalf("value %d visible %d times", i, n)
		}
	}
	if len(recs) != 190 {
		t.Fatalf("%d committed records, want 190 (180 of job-a, 10 of job-b)", len(recs))
	}
	if got, _ := x2.LastCommits(ctx); !maps.Equal(got, Commits{"n1": 9, "n2": 9}) {
		t.Fatalf("after the last transaction: %v", got)
	}
}

// TestTxnExporterFindsOldVector puts many records of another job after the
// job's last transaction, so the backwards search must widen its window.
func TestTxnExporterFindsOldVector(t *testing.T) {
	const topic = "busy"
	brokers := newCluster(t, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	x, err := NewTxnExporter(ctx, brokers, topic, "old", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.LastCommits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Send(ctx, nil, values(0, 3), Commits{"a": 3}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	p, err := NewProducer(brokers, Security{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for i := range 5000 {
		msgs = append(msgs, Message{Topic: topic, Value: fmt.Appendf(nil, "other %d", i)})
	}
	if err := p.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	p.Close()
	x, err = NewTxnExporter(ctx, brokers, topic, "old", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got, err := x.LastCommits(ctx); err != nil || !maps.Equal(got, Commits{"a": 3}) {
		t.Fatalf("commits %v, err %v", got, err)
	}
}

// TestTxnExporterWaitsForOtherTransactions: another job's transaction open
// on the partition holds the last stable offset before this job's newest
// committed records; LastCommits must wait for it rather than return an
// older vector.
func TestTxnExporterWaitsForOtherTransactions(t *testing.T) {
	const topic = "shared"
	brokers := newCluster(t, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other, err := NewTxnExporter(ctx, brokers, topic, "other", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.LastCommits(ctx); err != nil {
		t.Fatal(err)
	}
	x, err := NewTxnExporter(ctx, brokers, topic, "mine", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.LastCommits(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := produceAll(ctx, other.cl, topic, nil, values(0, 5), nil); err != nil {
		t.Fatal(err)
	}
	if err := x.Send(ctx, nil, values(100, 3), Commits{"n": 5}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	// The other job commits a moment later, while the next run reads back.
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = other.cl.EndTransaction(ctx, kgo.TryCommit)
	}()
	x2, err := NewTxnExporter(ctx, brokers, topic, "mine", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	if got, err := x2.LastCommits(ctx); err != nil || !maps.Equal(got, Commits{"n": 5}) {
		t.Fatalf("commits %v, err %v; want map[n:5]", got, err)
	}
}
