package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is a record to produce.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
}

// Producer is an idempotent producer that waits for acknowledgement from
// all in-sync replicas.
type Producer struct {
	cl  *kgo.Client
	sec Security
}

// NewProducer connects a producer to the brokers.
func NewProducer(brokers []string, sec Security, logger *slog.Logger) (*Producer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl, err := sec.newClient(
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RetryBackoffFn(backoff),
		kgo.WithLogger(slogLogger{logger}),
		kgo.AllowAutoTopicCreation(),
		// Dead-letter records are read by other clients: no codec that
		// needs an optional package (kafka-python lacks snappy without one).
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka: creating producer: %w", err)
	}
	return &Producer{cl: cl, sec: sec}, nil
}

// ProduceSync sends the messages and returns once every one is acknowledged,
// or the first error.
func (p *Producer) ProduceSync(ctx context.Context, msgs ...Message) error {
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		r := &kgo.Record{Topic: m.Topic, Key: m.Key, Value: m.Value}
		for _, h := range m.Headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		recs[i] = r
	}
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("kafka: producing to %s: %w", msgs[0].Topic, p.sec.Explain(err))
	}
	return nil
}

// Close flushes nothing more and closes the client.
func (p *Producer) Close() { p.cl.Close() }

// CreateTopic creates a topic with the given partitions on the brokers; an
// existing topic is fine.
func CreateTopic(ctx context.Context, brokers []string, topic string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("kafka: creating topic %s: %w", topic, err)
	}
	return nil
}

// NewExportProducer connects an idempotent producer (acks from all in-sync
// replicas) for result exports, writing record batches with the given
// compression (none, gzip, snappy, lz4 or zstd; "" is none). A missing topic
// is created if the broker allows auto-creation; a refusal is an error that
// says so.
func NewExportProducer(ctx context.Context, brokers []string, topic string, sec Security, compression string, logger *slog.Logger) (*Producer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	comp, err := compressionOpt(compression)
	if err != nil {
		return nil, err
	}
	cl, err := sec.newClient(
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordRetries(10),
		kgo.RetryBackoffFn(backoff),
		kgo.WithLogger(slogLogger{logger}),
		comp,
		newExportPartitioner(),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka: creating producer: %w", err)
	}
	if err := ensureTopic(ctx, cl, strings.Join(brokers, ","), topic, sec); err != nil {
		cl.Close()
		return nil, err
	}
	return &Producer{cl: cl, sec: sec}, nil
}

// SendAll produces values to topic and returns once every one is
// acknowledged, with the first error if any. keys is nil (no keys: records
// spread over the partitions) or holds each value's key (a nil key is no
// key); records of one key go to one partition, in order.
func (p *Producer) SendAll(ctx context.Context, topic string, keys, values [][]byte) error {
	if err := produceAll(ctx, p.cl, topic, keys, values, nil); err != nil {
		return fmt.Errorf("kafka: producing to %s: %w", topic, p.sec.Explain(err))
	}
	return nil
}

// produceAll produces values to topic (keyed by keys[i] when keys is not
// nil, the given headers on each) and waits until every one is
// acknowledged; it returns the first error.
func produceAll(ctx context.Context, cl *kgo.Client, topic string, keys, values [][]byte, headers []kgo.RecordHeader) error {
	if keys != nil && len(keys) != len(values) {
		return fmt.Errorf("kafka: %d keys for %d values", len(keys), len(values))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i, v := range values {
		var k []byte
		if keys != nil {
			k = keys[i]
		}
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: k, Value: v, Headers: headers}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return first
}
