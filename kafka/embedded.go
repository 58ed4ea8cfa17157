package kafka

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EmbeddedBroker is a Kafka-protocol broker (franz-go's kfake) inside the
// node process, for demos and quick tests. It keeps records in memory, and
// topics are created on first use with DefaultPartitions partitions.
type EmbeddedBroker struct {
	c    *kfake.Cluster
	addr string
}

// DefaultPartitions is the partition count of auto-created topics.
const DefaultPartitions = 4

// StartEmbedded starts a broker on hostPort (127.0.0.1:9092; port 0 picks
// one). retentionBytes > 0 bounds each partition's log.
func StartEmbedded(hostPort string, retentionBytes int64) (*EmbeddedBroker, error) {
	host, portS, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("kafka: embedded broker address %q: %w", hostPort, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return nil, fmt.Errorf("kafka: the embedded broker listens on 127.0.0.1 only, not %q", host)
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafka: embedded broker port %q is not a port number", portS)
	}
	// A fresh in-memory broker is a new cluster: give it its own ID so a
	// node never confuses its topics with those of an earlier run.
	var id [8]byte
	_, _ = rand.Read(id[:])
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(DefaultPartitions),
		kfake.ClusterID("lakenode-embedded-" + hex.EncodeToString(id[:])),
	}
	if retentionBytes > 0 {
		opts = append(opts, kfake.BrokerConfigs(map[string]string{"log.retention.bytes": strconv.FormatInt(retentionBytes, 10)}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: starting embedded broker on %s: %w", hostPort, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, fmt.Errorf("kafka: embedded broker on %s has no listener", hostPort)
	}
	return &EmbeddedBroker{c: c, addr: addrs[0]}, nil
}

// Addr is the broker's host:port.
func (b *EmbeddedBroker) Addr() string { return b.addr }

// Close stops the broker.
func (b *EmbeddedBroker) Close() { b.c.Close() }
