package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lakenode/lakenode/cluster/local"
	"github.com/lakenode/lakenode/node/nodeclient"
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
	base := fs.Int("base-port", 32048, "node i listens on P+2i and serves HTTP on P+2i+1")
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "starting %d nodes (data and logs in %s)...\n", *nodes, *dir)
	c, err := local.Up(ctx, local.Config{Bin: bin, Nodes: *nodes, BasePort: *base, DataDir: *dir, Embedded: *embedded})
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	defer func() {
		fmt.Fprintln(stderr, "stopping the cluster...")
		c.Down()
	}()
	for _, n := range c.Nodes {
		fmt.Fprintf(stderr, "%s: listen %s, REST %s\n", n.Name, n.Listen, n.HTTP)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	// The nodes inherit LAKENODE_AUTH_TOKEN, if set; so does the shell.
	sec, err := (&authOptions{}).settings()
	if err != nil {
		cancel()
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	cl, err := nodeclient.Dial(dctx, c.Nodes[0].Listen, isTerminal(stdout), slog.New(slog.DiscardHandler), sec)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	defer cl.Close()
	shellCtx, down := context.WithCancel(ctx)
	defer down()
	conn := clusterConn{Client: cl, down: down}
	if !isTerminal(stdin) {
		run := func(ctx context.Context, line string) bool {
			rep := conn.Execute(ctx, line)
			for _, n := range rep.Notices {
				fmt.Fprintln(stderr, n)
			}
			if rep.Err != "" {
				fmt.Fprintln(stderr, rep.Err)
				return false
			}
			if rep.Text != "" {
				io.WriteString(stdout, strings.TrimRight(rep.Text, "\n")+"\n")
			}
			return true
		}
		return runCommands(shellCtx, run, conn, c.Nodes[0].Name, &options{}, stdin, stdout, stderr, false, newEventSink(stderr))
	}
	sh := sqlshell.New(sqlshell.Config{Conn: conn, Prompt: c.Nodes[0].Name, Stdin: stdin, Stdout: stdout, Stderr: stderr})
	if err := sh.Run(shellCtx); err != nil {
		fmt.Fprintln(stderr, "lakenode cluster up:", err)
		return 1
	}
	return 0
}

// clusterConn is node 0's connection plus the shell's own `cluster down`.
type clusterConn struct {
	*nodeclient.Client
	down context.CancelFunc
}

func (c clusterConn) Execute(ctx context.Context, line string) sqlshell.Reply {
	if strings.EqualFold(strings.Join(strings.Fields(line), " "), "cluster down") {
		c.down()
		return sqlshell.Reply{Text: "stopping every node of the cluster"}
	}
	return c.Client.Execute(ctx, line)
}
