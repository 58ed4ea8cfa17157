package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/sample"
)

// demoConsumer is the seed's consumer command, pointed at the embedded broker.
const demoConsumer = `run kafka consumer where ip = %s and port = %s and reset = latest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

// demoSource fills litsanleandro.ping_sensor, the table the seed's producer
// command reads, from the sample producer's topic.
const demoSource = `run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = sensor_readings and dbms = litsanleandro and table = ping_sensor and column.device_name.str = "bring [device_name]" and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

// demoProducer is the seed's producer command, pointed at the embedded broker.
const demoProducer = `run client () sql litsanleandro format = json:output and stat = false and dest = kafka@%s:%s and topic = ping_data "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`

// PlayDemo plays the seed document on a started node with an embedded
// broker (`lakenode demo`): a sample producer fills
// litsanleandro.ping_sensor at rate messages a second, the seed's producer
// command publishes the last day's rows to ping_data, and the seed's
// consumer command brings them into lsl_demo.ping_sensor. Progress goes to
// stderr, the commands' replies as the shell prints them (terminal: stdout
// is a terminal). stop ends the sample producer; it is set when err is nil.
func (n *Node) PlayDemo(ctx context.Context, rate int, stdout, stderr io.Writer, terminal bool) (stop func(), err error) {
	addr := n.EmbeddedBroker()
	host, port := splitHostPort(addr)
	fmt.Fprintf(stderr, "embedded Kafka-protocol broker on %s; REST port on %s\n", addr, n.HTTPAddr())
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	// ping_out is the topic the export examples of the README and help write to.
	for _, topic := range []string{"sensor_readings", "ping_data", "ping_out"} {
		if err = kafka.CreateTopic(tctx, []string{addr}, topic, kafka.DefaultPartitions); err != nil {
			break
		}
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("creating the demo's topics: %w", err)
	}
	prodCtx, stop := context.WithCancel(ctx)
	go func() {
		_ = sample.Produce(prodCtx, []string{addr}, "sensor_readings", rate, nil)
	}()
	fmt.Fprintf(stderr, "sample producer: %d messages/s to topic sensor_readings\n", rate)
	conn := n.ShellConn(terminal)
	run := func(line string) error {
		fmt.Fprintln(stderr, line)
		if !conn.ExecuteTo(ctx, line, stdout, stderr).Print(stdout, stderr) {
			return fmt.Errorf("the demo's command failed: %s", line)
		}
		return nil
	}
	// The seed's story: rows in litsanleandro.ping_sensor; the seed's
	// consumer waiting on ping_data; the seed's producer publishing the
	// last day's rows there.
	for _, c := range []string{fmt.Sprintf(demoSource, host, port), fmt.Sprintf(demoConsumer, host, port)} {
		if err := run(c); err != nil {
			stop()
			return nil, err
		}
	}
	n.waitForDemoRows(ctx, stderr)
	if err := run(fmt.Sprintf(demoProducer, host, port)); err != nil {
		stop()
		return nil, err
	}
	waitUntil(ctx, 10*time.Second, func() bool { return n.RowCount("lsl_demo", "ping_sensor") >= 10 }, func() {})
	fmt.Fprintf(stderr, "rows brought by the seed's consumer into lsl_demo.ping_sensor: %d\n", n.RowCount("lsl_demo", "ping_sensor"))
	fmt.Fprintln(stderr, `try: sql lsl_demo format = table "select * from ping_sensor"`)
	fmt.Fprintln(stderr, `     sql litsanleandro format = table "select device_name, count(*), avg(value) from ping_sensor group by device_name order by 2 desc limit 5"`)
	fmt.Fprintln(stderr, `     get msg client | get streaming | get tables where dbms = * | help`)
	return stop, nil
}

// waitForDemoRows waits, showing progress, until the sample producer's rows
// reach litsanleandro.ping_sensor and the consumers hold their partitions.
func (n *Node) waitForDemoRows(ctx context.Context, stderr io.Writer) {
	waitUntil(ctx, 20*time.Second, func() bool {
		return n.RowCount("litsanleandro", "ping_sensor") >= 10 && n.ConsumersReady()
	}, func() {
		fmt.Fprintf(stderr, "\rrows ingested into litsanleandro.ping_sensor: %d   ", n.RowCount("litsanleandro", "ping_sensor"))
	})
	fmt.Fprintf(stderr, "\rrows ingested into litsanleandro.ping_sensor: %d\n", n.RowCount("litsanleandro", "ping_sensor"))
}

// waitUntil polls cond every 250 ms, calling progress, until it holds or
// the timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() bool, progress func()) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil && !cond() {
		progress()
		time.Sleep(250 * time.Millisecond)
	}
}

func splitHostPort(addr string) (string, string) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}
