package kafkatest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func roundTrip(t *testing.T, b *Broker, topic string, n int) {
	t.Helper()
	CreateTopic(t, b, topic, 4)
	var vals [][]byte
	for i := range n {
		vals = append(vals, []byte(fmt.Sprintf(`{"i":%d}`, i)))
	}
	Produce(t, b, topic, vals...)
	recs := ConsumeAll(t, b, topic, n, 60*time.Second)
	if len(recs) != n {
		t.Fatalf("consumed %d records, want %d", len(recs), n)
	}
	var total int64
	for _, o := range EndOffsets(t, b, topic) {
		total += o
	}
	if total != int64(n) {
		t.Fatalf("end offsets sum to %d, want %d", total, n)
	}
}

func TestKfakeProcessKeepsRecordsAcrossRestart(t *testing.T) {
	b := StartKfake(t)
	roundTrip(t, b, "rt", 100)
	b.Stop()
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if recs := ConsumeAll(t, b, "rt", 100, 30*time.Second); len(recs) != 100 {
		t.Fatalf("after a restart: %d records", len(recs))
	}
	b.Kill()
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	Produce(t, b, "rt", []byte(`{"i":100}`))
	if recs := ConsumeAll(t, b, "rt", 101, 30*time.Second); len(recs) != 101 {
		t.Fatalf("after a kill: %d records", len(recs))
	}
}

// TestBrokerFromEnv checks the broker the integration suite would use; with
// LAKENODE_TEST_BROKER=apache it starts Apache Kafka and fails (never skips)
// when its jars are missing.
func TestBrokerFromEnv(t *testing.T) {
	start := time.Now()
	b := FromEnv(t)
	t.Logf("%s broker on %s ready in %v", b.Kind(), b.Addr(), time.Since(start).Round(time.Millisecond))
	roundTrip(t, b, "env_rt", 50)
}

func TestApacheNeedsJars(t *testing.T) {
	old, had := os.LookupEnv("LAKENODE_KAFKA_LIBS")
	t.Setenv("LAKENODE_KAFKA_LIBS", t.TempDir())
	if _, err := startApache(); err == nil {
		t.Fatal("Apache Kafka started without jars")
	}
	if had {
		t.Setenv("LAKENODE_KAFKA_LIBS", old)
	}
}
