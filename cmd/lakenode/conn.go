package main

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/sqlshell"
)

// localConn runs the shell's commands on the node in this process.
type localConn struct{ n *node.Node }

func (c localConn) Execute(ctx context.Context, line string) sqlshell.Reply {
	res := c.n.Execute(ctx, line, node.ExecOptions{Terminal: true})
	rep := sqlshell.Reply{Text: res.Text, Notices: res.Notices}
	if res.Err != nil {
		rep.Err = res.ErrorText()
	}
	return rep
}

// ExecuteTo implements sqlshell.StreamConn: a json:output reply's rows go
// to stdout as they come.
func (c localConn) ExecuteTo(ctx context.Context, line string, stdout, stderr io.Writer) sqlshell.Reply {
	res := c.n.Execute(ctx, line, node.ExecOptions{Terminal: true, Stream: streamTo(stdout, stderr)})
	rep := sqlshell.Reply{Text: res.Text, Notices: res.Notices}
	if res.Err != nil {
		rep.Err = res.ErrorText()
	}
	return rep
}

func (c localConn) Complete(_ context.Context, before, after string) []string {
	return c.n.CompleteNames(command.MarkCursor(before, after))
}

// eventSink prints the node's asynchronous lines: above the shell's prompt
// while the shell runs, on stderr otherwise.
type eventSink struct {
	mu      sync.Mutex
	w       io.Writer
	printer func(string)
}

func newEventSink(w io.Writer) *eventSink { return &eventSink{w: w} }

func (e *eventSink) attach(p func(string)) {
	e.mu.Lock()
	e.printer = p
	e.mu.Unlock()
}

func (e *eventSink) print(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.printer != nil {
		e.printer(line)
		return
	}
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	_, _ = io.WriteString(e.w, line)
}
