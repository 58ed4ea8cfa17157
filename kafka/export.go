package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lakenode/lakenode/kafka/spec"
)

// compressionOpt is the producer option of a `compression = ...` codec. The
// default, none, is what a stock Kafka producer uses and what every client
// reads without optional packages (kafka-python needs python-snappy for
// snappy, lz4 and zstandard for the others).
func compressionOpt(name string) (kgo.Opt, error) {
	var c kgo.CompressionCodec
	switch name {
	case "", spec.CompressionNone:
		c = kgo.NoCompression()
	case "gzip":
		c = kgo.GzipCompression()
	case "snappy":
		c = kgo.SnappyCompression()
	case "lz4":
		c = kgo.Lz4Compression()
	case "zstd":
		c = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("kafka: unknown compression %q (use %s)", name, spec.CompressionList)
	}
	return kgo.ProducerBatchCompression(c), nil
}

// exportPartitioner places an export's records: a keyed record by the
// murmur2 hash of its key, as the Java client does, so one key's records
// land in one partition in order; records without a key round-robin over
// the partitions, so a consumer group shares them (their order across
// partitions is not kept).
type exportPartitioner struct{ keyed kgo.Partitioner }

func newExportPartitioner() kgo.Opt {
	return kgo.RecordPartitioner(exportPartitioner{keyed: kgo.StickyKeyPartitioner(nil)})
}

func (p exportPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &exportTopicPartitioner{keyed: p.keyed.ForTopic(t)}
}

// exportTopicPartitioner is not used concurrently (kgo's guarantee for a
// topic's partitioner).
type exportTopicPartitioner struct {
	keyed kgo.TopicPartitioner
	next  int
}

func (p *exportTopicPartitioner) RequiresConsistency(r *kgo.Record) bool { return r.Key != nil }

func (p *exportTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Key != nil {
		return p.keyed.Partition(r, n)
	}
	p.next++
	return p.next % n
}

// topicReadyWait bounds how long an export waits for a topic it asked the
// broker to create to get leaders for its partitions.
const topicReadyWait = 30 * time.Second

// refusalWait is how long a topic must stay unknown to metadata requests
// that allow auto-creation before the broker counts as refusing to create
// it: Apache Kafka 4 answers the request that starts the creation with
// UNKNOWN_TOPIC_OR_PARTITION too, and has the topic a moment later.
const refusalWait = 3 * time.Second

// ensureTopic makes sure topic exists on the brokers: as a stock producer
// does, it asks for the topic's metadata allowing auto-creation, so a broker
// with auto.create.topics.enable creates a missing topic, and then waits
// until its partitions have leaders. A broker that refuses is an error
// saying so.
func ensureTopic(ctx context.Context, cl *kgo.Client, brokers, topic string, sec Security) error {
	start := time.Now()
	deadline := start.Add(topicReadyWait)
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		req.AllowAutoTopicCreation = true
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return fmt.Errorf("kafka: broker %s does not answer: %w", brokers, sec.Explain(err))
		}
		exists, ready, terr := topicState(resp, topic)
		switch {
		case ready:
			return nil
		case errors.Is(terr, kerr.UnknownTopicOrPartition) && time.Since(start) >= refusalWait:
			return fmt.Errorf("kafka: topic %s does not exist on %s and the broker refused to create it (auto.create.topics.enable is off): create the topic first", topic, brokers)
		case errors.Is(terr, kerr.TopicAuthorizationFailed):
			return fmt.Errorf("kafka: the broker %s refused to create or describe topic %s: the user is not authorized: %w", brokers, topic, terr)
		case errors.Is(terr, kerr.InvalidTopicException), errors.Is(terr, kerr.PolicyViolation):
			return fmt.Errorf("kafka: the broker %s refused to create topic %s: %w", brokers, topic, terr)
		case errors.Is(terr, kerr.UnknownTopicOrPartition):
			// Maybe being created; asked again below.
		case terr != nil && !kerr.IsRetriable(terr):
			return fmt.Errorf("kafka: topic %s on %s: %w", topic, brokers, terr)
		}
		if time.Now().After(deadline) {
			if exists {
				// Some partitions lack a leader; the producer retries
				// those records as it does on any leader change.
				return nil
			}
			return fmt.Errorf("kafka: topic %s on %s is not ready %v after asking the broker to create it: %v", topic, brokers, topicReadyWait, terr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: waiting for topic %s on %s: %w", topic, brokers, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// topicState reads topic's entry in a metadata response: its error, whether
// it exists with partitions, and whether every partition has a leader.
func topicState(resp *kmsg.MetadataResponse, topic string) (exists, ready bool, err error) {
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return false, false, err
		}
		if len(t.Partitions) == 0 {
			return false, false, kerr.LeaderNotAvailable
		}
		for _, p := range t.Partitions {
			if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil || p.Leader < 0 {
				if perr == nil {
					perr = kerr.LeaderNotAvailable
				}
				return true, false, perr
			}
		}
		return true, true, nil
	}
	return false, false, kerr.UnknownTopicOrPartition
}
