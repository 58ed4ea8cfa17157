package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/sample"
	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/sqlshell"
)

// demoConsumer is the seed's consumer command, pointed at the embedded broker.
const demoConsumer = `run kafka consumer where ip = %s and port = %s and reset = latest and topic = (name = ping_data and dbms = lsl_demo and table = ping_sensor and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

// demoSource fills litsanleandro.ping_sensor, the table the seed's producer
// command reads, from the sample producer's topic.
const demoSource = `run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = sensor_readings and dbms = litsanleandro and table = ping_sensor and column.device_name.str = "bring [device_name]" and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`

// demoProducer is the seed's producer command, pointed at the embedded broker.
const demoProducer = `run client () sql litsanleandro format = json:output and stat = false and dest = kafka@%s:%s and topic = ping_data "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`

// runDemo plays the seed document on a node with an embedded broker: a
// sample producer fills litsanleandro.ping_sensor, the seed's producer
// command publishes the last day's rows to ping_data, and the seed's
// consumer command brings them into lsl_demo.ping_sensor; then the shell.
func runDemo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lakenode demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("kafka-embedded", "127.0.0.1:9092", "address of the embedded broker (127.0.0.1 only)")
	rate := fs.Int("rate", 200, "sample messages per second")
	httpAddr := fs.String("http", node.DefaultHTTPAddr, "REST command port")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary one, removed at exit)")
	if help, err := parse(fs, args, stdout, stderr); help {
		return 0
	} else if err != nil {
		return 2
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lakenode-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "lakenode demo:", err)
			return 1
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		dir = tmp
	}
	events := newEventSink(stderr)
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.KafkaEmbedded, cfg.HTTPAddr, cfg.Version = dir, *broker, *httpAddr, version
	cfg.EmbeddedRetentionBytes = 64 << 20
	cfg.Name = "demo"
	cfg.Events = events.print
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	n, err := node.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := n.Stop(c); err != nil {
			fmt.Fprintln(stderr, "lakenode demo: stopping:", err)
		}
	}()
	if err := n.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
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
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	prodCtx, stopProd := context.WithCancel(ctx)
	defer stopProd()
	go func() {
		_ = sample.Produce(prodCtx, []string{addr}, "sensor_readings", *rate, nil)
	}()
	fmt.Fprintf(stderr, "sample producer: %d messages/s to topic sensor_readings\n", *rate)
	// The seed's story: rows in litsanleandro.ping_sensor; the seed's
	// consumer waiting on ping_data; the seed's producer publishing the
	// last day's rows there.
	for _, c := range []string{fmt.Sprintf(demoSource, host, port), fmt.Sprintf(demoConsumer, host, port)} {
		fmt.Fprintln(stderr, c)
		if !execute(ctx, n, c, stdout, stderr) {
			return 1
		}
	}
	waitUntil(ctx, 20*time.Second, func() bool {
		return n.RowCount("litsanleandro", "ping_sensor") >= 10 && n.ConsumersReady()
	}, func() {
		fmt.Fprintf(stderr, "\rrows ingested into litsanleandro.ping_sensor: %d   ", n.RowCount("litsanleandro", "ping_sensor"))
	})
	fmt.Fprintf(stderr, "\rrows ingested into litsanleandro.ping_sensor: %d\n", n.RowCount("litsanleandro", "ping_sensor"))
	producer := fmt.Sprintf(demoProducer, host, port)
	fmt.Fprintln(stderr, producer)
	if !execute(ctx, n, producer, stdout, stderr) {
		return 1
	}
	waitUntil(ctx, 10*time.Second, func() bool { return n.RowCount("lsl_demo", "ping_sensor") >= 10 }, func() {})
	fmt.Fprintf(stderr, "rows brought by the seed's consumer into lsl_demo.ping_sensor: %d\n", n.RowCount("lsl_demo", "ping_sensor"))
	fmt.Fprintln(stderr, `try: sql lsl_demo format = table "select * from ping_sensor"`)
	fmt.Fprintln(stderr, `     sql litsanleandro format = table "select device_name, count(*), avg(value) from ping_sensor group by device_name order by 2 desc limit 5"`)
	fmt.Fprintln(stderr, `     get msg client | get streaming | get tables where dbms = * | help`)
	if !isTerminal(stdin) {
		// Not a terminal: run what stdin says, as a script.
		exec := func(ctx context.Context, line string) bool { return execute(ctx, n, line, stdout, stderr) }
		return runCommands(ctx, exec, localConn{n}, n.Name(), &options{}, stdin, stdout, stderr, false, events)
	}
	sh := sqlshell.New(sqlshell.Config{Conn: localConn{n}, Prompt: n.Name(), Stdin: stdin, Stdout: stdout, Stderr: stderr})
	events.attach(sh.Printer())
	defer events.attach(nil)
	if err := sh.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	return 0
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
