package integration

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// BenchmarkExport (`make bench`): a query whose 1 M result rows go to a
// Kafka topic (`dest = kafka@...`, one message per row, every message
// acknowledged), against a bare franz-go producer sending the same bytes,
// both to a kfake broker in its own process. LAKENODE_BENCH_EXPORT_ROWS=N
// changes the row count.
func BenchmarkExport(b *testing.B) {
	rows := envInt(b, "LAKENODE_BENCH_EXPORT_ROWS", 1_000_000)
	br := kafkatest.StartKfake(b)
	host, port, _ := net.SplitHostPort(br.Addr())
	kafkatest.CreateTopic(b, br, "src", 4)
	produceN(b, br.Addr(), "src", rows, 0)
	n := startNode(b, "export-bench", b.TempDir(), "")
	n.mustExec(fmt.Sprintf(benchConsumer, host, port, "src", "src"))
	waitFor(b, 10*time.Minute, func() bool { return n.rowCount("bench", "src") == int64(rows) }, "%d rows", rows)
	for i := range b.N {
		topic := fmt.Sprintf("export_%d", i)
		kafkatest.CreateTopic(b, br, topic, 4)
		t0 := time.Now()
		body := n.mustExec(fmt.Sprintf(`sql bench format = json:output and stat = false and dest = kafka@%s and topic = %s "select device_name, timestamp, value, seq from src"`, br.Addr(), topic))
		lake := time.Since(t0)
		if !strings.Contains(body, fmt.Sprintf(`"Rows" : %d`, rows)) {
			b.Fatalf("export: %s", body)
		}
		// The ceiling: the same messages from a bare producer.
		recs := kafkatest.ConsumeAll(b, br, topic, rows, 5*time.Minute)
		kafkatest.CreateTopic(b, br, topic+"_bare", 4)
		cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.DefaultProduceTopic(topic+"_bare"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for _, r := range recs {
			cl.Produce(context.Background(), &kgo.Record{Value: r.Value}, nil)
		}
		if err := cl.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		bare := time.Since(t1)
		cl.Close()
		// The same export with since = last: one transaction, the job's
		// vector read back from the (empty) target topic first.
		kafkatest.CreateTopic(b, br, topic+"_since", 4)
		t2 := time.Now()
		body = n.mustExec(fmt.Sprintf(`sql bench format = json:output and stat = false and dest = kafka@%s and topic = %s and since = last "select device_name, timestamp, value, seq from src"`, br.Addr(), topic+"_since"))
		since := time.Since(t2)
		if !strings.Contains(body, fmt.Sprintf(`"Rows" : %d`, rows)) {
			b.Fatalf("since = last export: %s", body)
		}
		lr, brr, sr := float64(rows)/lake.Seconds(), float64(rows)/bare.Seconds(), float64(rows)/since.Seconds()
		b.ReportMetric(lr, "export_rows/s")
		b.ReportMetric(brr, "bare_producer_msgs/s")
		b.ReportMetric(lr/brr, "of_bare")
		b.ReportMetric(sr, "since_last_rows/s")
		fmt.Printf("export of %d rows (query, JSON rows, produce, all acknowledged): %.0f rows/s in %v; bare franz-go producer of the same messages: %.0f msgs/s; %.2f of bare\n",
			rows, lr, lake.Round(time.Millisecond), brr, lr/brr)
		fmt.Printf("the same export with since = last (one transaction, exactly once): %.0f rows/s in %v; %.2f of the plain export\n",
			sr, since.Round(time.Millisecond), sr/lr)
	}
	n.stop()
}
