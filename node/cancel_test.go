package node

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// Remote requests are told apart by their sender's address and id: a
// cancel from another asker, or for another id, stops nothing; an asker
// going away stops all of its requests and only its own.
func TestRemoteRunsCancel(t *testing.T) {
	a, b := actor.NewPID("127.0.0.1:1", "future$1"), actor.NewPID("127.0.0.1:2", "future$1")
	type req struct {
		sender *actor.PID
		id     uint64
	}
	cases := []struct {
		name    string
		reqs    []req
		cancel  func(n *Node) bool // what happens; its result is found
		found   bool
		stopped []bool // per request
	}{
		{"the sender cancels its id", []req{{a, 1}, {a, 2}}, func(n *Node) bool { return n.cancelRemote(actor.NewPID("127.0.0.1:1", "future$9"), 2) }, true, []bool{false, true}},
		{"another sender's cancel", []req{{a, 1}}, func(n *Node) bool { return n.cancelRemote(b, 1) }, false, []bool{false}},
		{"an id not running", []req{{a, 1}}, func(n *Node) bool { return n.cancelRemote(a, 3) }, false, []bool{false}},
		{"no sender", []req{{a, 1}}, func(n *Node) bool { return n.cancelRemote(nil, 1) }, false, []bool{false}},
		{"an asker goes away", []req{{a, 1}, {b, 1}, {a, 2}}, func(n *Node) bool { n.askerGone("127.0.0.1:1"); return false }, false, []bool{true, false, true}},
		{"without an id, not cancelable", []req{{a, 0}}, func(n *Node) bool { n.askerGone("127.0.0.1:1"); return n.cancelRemote(a, 0) }, false, []bool{false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &Node{log: slog.New(slog.DiscardHandler)}
			var ctxs []context.Context
			for _, r := range c.reqs {
				ctx, done := n.startRemote(r.sender, r.id)
				t.Cleanup(done)
				ctxs = append(ctxs, ctx)
			}
			if got := c.cancel(n); got != c.found {
				t.Fatalf("found = %v, want %v", got, c.found)
			}
			for i, ctx := range ctxs {
				if stopped := ctx.Err() != nil; stopped != c.stopped[i] {
					t.Errorf("request %d: stopped = %v, want %v", i, stopped, c.stopped[i])
				}
			}
		})
	}
}

// The cause tells a cancel from the asker from its going away; a finished
// request is forgotten, so a late cancel finds nothing.
func TestRemoteRunsCause(t *testing.T) {
	n := &Node{log: slog.New(slog.DiscardHandler)}
	a := actor.NewPID("127.0.0.1:1", "x")
	ctx1, done1 := n.startRemote(a, 1)
	ctx2, done2 := n.startRemote(a, 2)
	defer done2()
	n.cancelRemote(a, 1)
	n.askerGone("127.0.0.1:1")
	if !errors.Is(context.Cause(ctx1), errCanceledByAsker) || askerGone(ctx1) {
		t.Errorf("request 1: cause %v", context.Cause(ctx1))
	}
	if !askerGone(ctx2) {
		t.Errorf("request 2: cause %v", context.Cause(ctx2))
	}
	done1()
	if n.cancelRemote(a, 1) {
		t.Error("a finished request was found")
	}
}

// Only the benign remote messages are lowered to debug.
func TestActorLogHandler(t *testing.T) {
	cases := []struct {
		level slog.Level
		min   slog.Level // the node's --log-level
		msg   string
		want  string // "" when nothing is logged
	}{
		{slog.LevelError, slog.LevelWarn, "EndpointWriter lost connection", ""},
		{slog.LevelError, slog.LevelDebug, "EndpointWriter lost connection", "level=DEBUG"},
		{slog.LevelError, slog.LevelWarn, "EndpointWriter failed to connect", "level=ERROR"},
		{slog.LevelInfo, slog.LevelWarn, "Started EndpointWriter. connecting", ""},
		{slog.LevelDebug, slog.LevelDebug, "EndpointWriter lost connection", "level=DEBUG"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		l := slog.New(actorLogHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: c.min})}).With("lib", "actor")
		l.Log(context.Background(), c.level, c.msg, "address", "127.0.0.1:1")
		got := buf.String()
		switch {
		case c.want == "" && got != "":
			t.Errorf("%v %q at %v: logged %q", c.level, c.msg, c.min, got)
		case c.want != "" && (!strings.Contains(got, c.want) || !strings.Contains(got, "lib=actor") || !strings.Contains(got, c.msg)):
			t.Errorf("%v %q at %v: logged %q, want %s", c.level, c.msg, c.min, got, c.want)
		}
	}
}
