package main

import (
	"context"
	"errors"
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

// runDemo starts a node with an embedded broker, a sample producer and the
// seed's consumer, shows a live count of ingested rows, then opens the shell.
func runDemo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lakenode demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("kafka-embedded", "127.0.0.1:9092", "address of the embedded broker (127.0.0.1 only)")
	rate := fs.Int("rate", 200, "sample messages per second")
	httpAddr := fs.String("http", node.DefaultHTTPAddr, "REST command port")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary one, removed at exit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	err = kafka.CreateTopic(tctx, []string{addr}, "ping_data", kafka.DefaultPartitions)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	prodCtx, stopProd := context.WithCancel(ctx)
	defer stopProd()
	go func() {
		_ = sample.Produce(prodCtx, []string{addr}, "ping_data", *rate, nil)
	}()
	fmt.Fprintf(stderr, "sample producer: %d messages/s to topic ping_data\n", *rate)
	consumer := fmt.Sprintf(demoConsumer, host, port)
	fmt.Fprintln(stderr, consumer)
	if !execute(ctx, n, consumer, stdout, stderr) {
		return 1
	}
	// A live line of rows ingested: until rows have flowed for 3 s (at most
	// 20 s), then the shell.
	deadline := time.Now().Add(20 * time.Second)
	var flowing time.Time
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rows := n.RowCount("lsl_demo", "ping_sensor")
		if rows > 0 && flowing.IsZero() {
			flowing = time.Now()
		}
		if !flowing.IsZero() && time.Since(flowing) > 3*time.Second {
			break
		}
		fmt.Fprintf(stderr, "\rrows ingested into lsl_demo.ping_sensor: %d   ", rows)
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(stderr, "\rrows ingested into lsl_demo.ping_sensor: %d\n", n.RowCount("lsl_demo", "ping_sensor"))
	fmt.Fprintln(stderr, `try: sql lsl_demo format = table "select count(*), min(value), max(value) from ping_sensor where timestamp > now() - 1 hour"`)
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

func splitHostPort(addr string) (string, string) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}
