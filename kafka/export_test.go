package kafka

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newClusterOpts(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	opts = append(opts, kfake.NumBrokers(1), kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// batchCodecs fetches partition 0 of topic raw and returns the compression
// codec (attributes & 7: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of each
// record batch in it, transaction markers left out.
func batchCodecs(t *testing.T, brokers []string, topic string) []int16 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = md.Topics[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch %s: %+v", topic, resp)
	}
	raw := resp.Topics[0].Partitions[0].RecordBatches
	var codecs []int16
	for len(raw) >= 61 {
		length := int(binary.BigEndian.Uint32(raw[8:12]))
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw[:12+length]); err != nil {
			t.Fatal(err)
		}
		if b.Attributes&0x20 == 0 { // not a transaction marker
			codecs = append(codecs, b.Attributes&7)
		}
		raw = raw[12+length:]
	}
	return codecs
}

// TestExportCompression: the export producers write uncompressed batches
// unless told otherwise (a stock client without optional packages reads
// them), and each codec named in compression = ... is the one used.
func TestExportCompression(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	payload := [][]byte{[]byte(strings.Repeat(`{"v": 1}`, 50)), []byte(strings.Repeat(`{"v": 2}`, 50))}
	for _, c := range []struct {
		name string
		want int16
	}{{"", 0}, {"none", 0}, {"gzip", 1}, {"snappy", 2}, {"lz4", 3}, {"zstd", 4}} {
		topic := "c_" + c.name
		brokers := newClusterOpts(t, kfake.SeedTopics(1, topic, topic+"_tx"))
		p, err := NewExportProducer(ctx, brokers, topic, Security{}, c.name, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		if err := p.SendAll(ctx, topic, nil, payload); err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		p.Close()
		x, err := NewTxnExporter(ctx, brokers, topic+"_tx", "job", Security{}, c.name, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		if err := x.Send(ctx, nil, payload, Commits{"n": 1}); err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		x.Close()
		for _, tp := range []string{topic, topic + "_tx"} {
			codecs := batchCodecs(t, brokers, tp)
			if len(codecs) == 0 {
				t.Fatalf("%q: no batches in %s", c.name, tp)
			}
			for _, got := range codecs {
				if got != c.want {
					t.Fatalf("compression %q: %s has a batch with codec %d, want %d", c.name, tp, got, c.want)
				}
			}
		}
	}
	if _, err := NewExportProducer(ctx, []string{"127.0.0.1:1"}, "t", Security{}, "brotli", nil); err == nil || !strings.Contains(err.Error(), `unknown compression "brotli"`) {
		t.Fatalf("unknown codec: %v", err)
	}
	// The dead-letter producer's records are uncompressed too.
	brokers := newClusterOpts(t, kfake.SeedTopics(1, "dlq"))
	p, err := NewProducer(brokers, Security{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, Message{Topic: "dlq", Value: payload[0]}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if codecs := batchCodecs(t, brokers, "dlq"); len(codecs) != 1 || codecs[0] != 0 {
		t.Fatalf("dead-letter batches: codecs %v, want [0]", codecs)
	}
}

// TestExportCreatesTopic: a missing target topic is created when the broker
// allows auto-creation, by both export producers; a broker that does not
// refuses, and the error says so.
func TestExportCreatesTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	brokers := newClusterOpts(t, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	p, err := NewExportProducer(ctx, brokers, "made", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendAll(ctx, "made", nil, [][]byte{[]byte("a")}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	x, err := NewTxnExporter(ctx, brokers, "made_tx", "job", Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Send(ctx, nil, [][]byte{[]byte("b")}, Commits{"n": 1}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	for _, topic := range []string{"made", "made_tx"} {
		if recs, err := ReadCommitted(ctx, brokers, topic, Security{}); err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d records, %v", topic, len(recs), err)
		}
	}

	closed := newClusterOpts(t)
	_, err = NewExportProducer(ctx, closed, "absent", Security{}, "", nil)
	want := fmt.Sprintf("topic absent does not exist on %s and the broker refused to create it", closed[0])
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("refused creation: %v, want %q", err, want)
	}
	if _, err = NewTxnExporter(ctx, closed, "absent", "job", Security{}, "", nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("refused creation (transactional): %v, want %q", err, want)
	}
}

// TestExportKeys: records keyed by a value all land in one partition, in
// the order sent; records without keys spread over the partitions.
func TestExportKeys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "keyed"
	brokers := newClusterOpts(t, kfake.SeedTopics(4, topic, "unkeyed"))
	p, err := NewExportProducer(ctx, brokers, topic, Security{}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var keys, vals [][]byte
	for i := range 400 {
		keys = append(keys, fmt.Appendf(nil, "dev-%d", i%8))
		vals = append(vals, fmt.Appendf(nil, "%d", i))
	}
	if err := p.SendAll(ctx, topic, keys, vals); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadCommitted(ctx, brokers, topic, Security{})
	if err != nil {
		t.Fatal(err)
	}
	partOf := map[string]int32{}
	last := map[string]int{}
	parts := map[int32]bool{}
	for _, r := range recs {
		k := string(r.Key)
		if p, ok := partOf[k]; ok && p != r.Partition {
			t.Fatalf("key %s in partitions %d and %d", k, p, r.Partition)
		}
		partOf[k] = r.Partition
		parts[r.Partition] = true
		var v int
		if _, err := fmt.Sscan(string(r.Value), &v); err != nil {
			t.Fatal(err)
		}
		if l, ok := last[k]; ok && v < l {
			t.Fatalf("key %s: value %d after %d", k, v, l)
		}
		last[k] = v
	}
	if len(recs) != 400 || len(partOf) != 8 || len(parts) < 2 {
		t.Fatalf("%d records, %d keys over %d partitions", len(recs), len(partOf), len(parts))
	}
	// Without keys, records have none and are not all in one partition.
	for range 20 {
		if err := p.SendAll(ctx, "unkeyed", nil, vals[:20]); err != nil {
			t.Fatal(err)
		}
	}
	recs, err = ReadCommitted(ctx, brokers, "unkeyed", Security{})
	if err != nil {
		t.Fatal(err)
	}
	parts = map[int32]bool{}
	for _, r := range recs {
		if r.Key != nil {
			t.Fatalf("unkeyed record with key %q", r.Key)
		}
		parts[r.Partition] = true
	}
	if len(recs) != 400 || len(parts) != 4 {
		t.Fatalf("unkeyed: %d records over %d partitions", len(recs), len(parts))
	}
}
