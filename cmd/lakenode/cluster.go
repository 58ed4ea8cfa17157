package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/sqlshell"
)

// runCluster is `lakenode cluster up --nodes N [--base-port P]
// [--data-dir DIR] [--kafka-embedded HOST:PORT]`: N node processes that know
// each other, then the shell on node 0; Ctrl-D, `exit` or `cluster down`
// stops them all.
func runCluster(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const usage = "usage: lakenode cluster up --nodes N [--base-port P] [--data-dir DIR] [--kafka-embedded HOST:PORT]\n       (lakenode cluster up --help lists the flags)"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("lakenode cluster up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 0, "how many nodes to start (required)")
	base := fs.Int("base-port", 32048, "node i listens on P+3i, serves HTTP on P+3i+1 and PostgreSQL on P+3i+2")
	dir := fs.String("data-dir", "./lakenode-cluster", "node i keeps its data in DIR/node-i and its log in DIR/node-i.log")
	embedded := fs.String("kafka-embedded", "", "run an embedded Kafka-protocol broker on node 0 at HOST:PORT")
	if help, err := parse(fs, args[1:], stdout, stderr); help {
		return 0
	} else if err != nil {
		return 2
	}
	if *nodes < 1 {
		fmt.Fprintln(stderr, "lakenode cluster up: --nodes N is required (N >= 1)")
		return 2
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	// The nodes inherit LAKENODE_AUTH_TOKEN, if set; so does the shell.
	sec, err := (&authOptions{}).settings()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	lc, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Bin: bin, Nodes: *nodes, BasePort: *base, DataDir: *dir, Embedded: *embedded}, sec, isTerminal(stdout), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	defer lc.Down()
	shellCtx, down := context.WithCancel(ctx)
	defer down()
	s := sqlshell.Session{
		Config:      sqlshell.Config{Conn: lc.Conn(down), Prompt: lc.Name(), Stdin: stdin, Stdout: stdout, Stderr: stderr},
		Interactive: isTerminal(stdin),
	}
	ok, err := s.Run(shellCtx)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	return exitCode(ok)
}
