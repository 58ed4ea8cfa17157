// Package nodeclient reaches a running node over remote actor messages: the
// shell's --connect. Its Client is a sqlshell.Conn (without importing
// sqlshell: the reply type is node/output's).
package nodeclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/node/auth"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// Client talks to one node's command actor.
type Client struct {
	sys      *actor.ActorSystem
	rem      *remote.Remote
	target   *actor.PID
	terminal bool
	nextID   atomic.Uint64 // numbers the commands sent, to cancel them
}

// CommandActorName must match the node's (node.CommandActorName).
const commandActorName = "node/command"

// Dial starts a local remote endpoint on an ephemeral port of the interface
// that reaches addr (loopback for a node on loopback) and checks that the
// node answers. sec carries the cluster's token or certificates: the node's
// streams to this endpoint (its replies) must carry them too.
func Dial(ctx context.Context, addr string, terminal bool, logger *slog.Logger, sec auth.Settings) (*Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--connect %q: %w", addr, err)
	}
	// A plain TCP dial first: a node that is not there fails at once, and
	// clearly, instead of after the actor request's timeout.
	if c, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, "tcp", addr); err != nil {
		return nil, fmt.Errorf("cannot reach a node at %s (is it running with --serve or --listen %s?): %w", addr, addr, err)
	} else {
		_ = c.Close()
	}
	// The token or certificate, checked before anything is sent: a refusal
	// is a clear error now rather than a timeout later.
	if err := sec.Probe(ctx, addr); err != nil {
		return nil, err
	}
	local := "127.0.0.1"
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		// The address of the interface that routes to the node.
		if c, err := net.Dial("udp", net.JoinHostPort(host, "9")); err == nil {
			local = c.LocalAddr().(*net.UDPAddr).IP.String()
			_ = c.Close()
		}
	}
	probe, err := net.Listen("tcp", net.JoinHostPort(local, "0"))
	if err != nil {
		return nil, fmt.Errorf("opening a local endpoint: %w", err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	_ = probe.Close()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	ropts, err := sec.RemoteOptions(logger.Warn)
	if err != nil {
		return nil, err
	}
	rem := remote.NewRemote(sys, remote.Configure(local, port, ropts...))
	rem.Start()
	c := &Client{sys: sys, rem: rem, target: actor.NewPID(addr, commandActorName), terminal: terminal}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if _, err := sys.Root.RequestFuture(c.target, &actorpb.CompleteRequest{Prefix: "\x00"}, timeout).Result(); err != nil {
		c.Close()
		return nil, fmt.Errorf("node at %s does not answer (is it running with --serve or --listen %s?): %w", addr, addr, err)
	}
	return c, nil
}

// Close stops the local endpoint.
func (c *Client) Close() { c.rem.Shutdown(false) }

// Run runs a command and returns its reply. When ctx ends first (Ctrl-C),
// the node is told to cancel the command, and Run returns the node's answer
// to it (a canceled query says so) if it comes within a few seconds.
func (c *Client) Run(ctx context.Context, line string) (*actorpb.CommandReply, error) {
	id := c.nextID.Add(1)
	f := c.sys.Root.RequestFuture(c.target, &actorpb.CommandRequest{Line: line, Terminal: c.terminal, Id: id}, 24*time.Hour)
	done := make(chan struct{})
	var res any
	var err error
	go func() { res, err = f.Result(); close(done) }()
	select {
	case <-ctx.Done():
		if cerr := c.cancel(id, done); cerr != nil {
			return nil, cerr
		}
	case <-done:
	}
	if err != nil {
		return nil, fmt.Errorf("the node did not answer: %w", err)
	}
	rep, ok := res.(*actorpb.CommandReply)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", res)
	}
	return rep, nil
}

// cancel tells the node to cancel command id and waits a little for the
// command's reply (done closed); nil when the reply came.
func (c *Client) cancel(id uint64, done <-chan struct{}) error {
	if _, err := c.sys.Root.RequestFuture(c.target, &actorpb.CancelRequest{Id: id}, cancelWait).Result(); err != nil {
		return fmt.Errorf("canceled, but the node was not told to stop the command: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(cancelWait):
		return errors.New("canceled (the node was told to stop the command and has not answered yet)")
	}
}

// cancelWait bounds each step of canceling a command.
const cancelWait = 3 * time.Second

// Execute implements sqlshell.Conn.
func (c *Client) Execute(ctx context.Context, line string) output.Reply {
	rep, err := c.Run(ctx, line)
	if err != nil {
		return output.Reply{Err: err.Error()}
	}
	return output.Reply{Text: rep.Text, Notices: rep.Notices, Err: rep.Error}
}

// Complete implements sqlshell.Conn.
func (c *Client) Complete(ctx context.Context, before, after string) []string {
	res, err := c.sys.Root.RequestFuture(c.target, &actorpb.CompleteRequest{Prefix: command.MarkCursor(before, after)}, time.Second).Result()
	if err != nil {
		return nil
	}
	if r, ok := res.(*actorpb.CompleteReply); ok {
		return r.Names
	}
	return nil
}
