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

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/sqlshell"
)

// runDemo plays the seed document on a node with an embedded broker
// (node.PlayDemo), then runs the shell, or at no terminal the commands on
// stdin.
func runDemo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lakenode demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("kafka-embedded", "127.0.0.1:9092", "address of the embedded broker (127.0.0.1 only)")
	rate := fs.Int("rate", 200, "sample messages per second")
	httpAddr := fs.String("http", node.DefaultHTTPAddr, "REST command port")
	pgAddr := fs.String("pg", node.DefaultPGAddr, "PostgreSQL wire endpoint (psql -h 127.0.0.1 -p 32050 -d lsl_demo)")
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
	events := sqlshell.NewEvents(stderr)
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.KafkaEmbedded, cfg.HTTPAddr, cfg.PGAddr, cfg.Version = dir, *broker, *httpAddr, *pgAddr, version
	cfg.EmbeddedRetentionBytes = 64 << 20
	cfg.Name = "demo"
	cfg.Events = events.Print
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
	interactive := isTerminal(stdin)
	stopProducer, err := n.PlayDemo(ctx, *rate, stdout, stderr, isTerminal(stdout))
	if err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	defer stopProducer()
	s := sqlshell.Session{
		Config: sqlshell.Config{Conn: n.ShellConn(interactive || isTerminal(stdout)), Prompt: n.Name(), Stdin: stdin, Stdout: stdout, Stderr: stderr,
			Progress: interactive && isTerminal(stderr)},
		Interactive: interactive,
		Events:      events,
	}
	ok, err := s.Run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode demo:", err)
		return 1
	}
	return exitCode(ok)
}
