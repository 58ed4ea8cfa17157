package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lakenode/lakenode/cluster/local"
	"github.com/lakenode/lakenode/node/auth"
	"github.com/lakenode/lakenode/node/nodeclient"
	"github.com/lakenode/lakenode/node/output"
)

// LocalClusterConfig describes `lakenode cluster up`: how many node
// processes of which binary, their ports and data dirs.
type LocalClusterConfig = local.Config

// LocalCluster is N node processes on this machine that know each other,
// and a connection to node 0 for the shell.
type LocalCluster struct {
	c      *local.Cluster
	client *nodeclient.Client
	stderr io.Writer
}

// StartLocalCluster starts the nodes, says where they listen on stderr and
// connects to node 0 with sec (the nodes inherit $LAKENODE_AUTH_TOKEN, so
// the connection carries the same token). terminal says stdout is a
// terminal. Down stops them.
func StartLocalCluster(ctx context.Context, cfg LocalClusterConfig, sec auth.Settings, terminal bool, stderr io.Writer) (*LocalCluster, error) {
	fmt.Fprintf(stderr, "starting %d nodes (data and logs in %s)...\n", cfg.Nodes, cfg.DataDir)
	c, err := local.Up(ctx, cfg)
	if err != nil {
		return nil, err
	}
	lc := &LocalCluster{c: c, stderr: stderr}
	for _, n := range c.Nodes {
		fmt.Fprintf(stderr, "%s: listen %s, REST %s\n", n.Name, n.Listen, n.HTTP)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lc.client, err = nodeclient.Dial(dctx, c.Nodes[0].Listen, terminal, slog.New(slog.DiscardHandler), sec)
	if err != nil {
		lc.Down()
		return nil, err
	}
	return lc, nil
}

// Name is node 0's name, the shell's prompt.
func (lc *LocalCluster) Name() string { return lc.c.Nodes[0].Name }

// Down closes the connection and stops every node gracefully.
func (lc *LocalCluster) Down() {
	if lc.client != nil {
		lc.client.Close()
	}
	fmt.Fprintln(lc.stderr, "stopping the cluster...")
	lc.c.Down()
}

// Conn is node 0's connection for the shell and scripts, plus the shell's
// own `cluster down`, which calls down.
func (lc *LocalCluster) Conn(down context.CancelFunc) ClusterConn {
	return ClusterConn{Client: lc.client, down: down}
}

// ClusterConn is node 0's connection plus `cluster down`: a sqlshell.Conn.
type ClusterConn struct {
	*nodeclient.Client
	down context.CancelFunc
}

// Execute runs a command on node 0; `cluster down` calls down instead.
func (c ClusterConn) Execute(ctx context.Context, line string) output.Reply {
	if strings.EqualFold(strings.Join(strings.Fields(line), " "), "cluster down") {
		c.down()
		return output.Reply{Text: "stopping every node of the cluster"}
	}
	return c.Client.Execute(ctx, line)
}
