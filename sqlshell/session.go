package sqlshell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/lakenode/lakenode/node/command"
)

// Session is what one lakenode process runs against a node, local or
// remote: the -f scripts, then the -c commands; with neither, the shell when
// Interactive, else the commands read from Stdin to its end (none with
// Serve, where the node just keeps running).
type Session struct {
	Config               // the node, the prompt and the streams
	Files       []string // -f scripts, in order
	Commands    []string // -c commands, in order, after the scripts
	Interactive bool     // the shell when there are no scripts or commands
	Serve       bool     // --serve: stdin is not read
	// Events, when set, prints the node's asynchronous lines above the
	// shell's prompt while the shell runs.
	Events *Events
}

// Run runs the session. It reports whether every command succeeded; err is
// set when the shell could not run (it is not counted as a command).
// A failed command does not stop the ones after it; a canceled ctx does.
func (s *Session) Run(ctx context.Context) (ok bool, err error) {
	ok = true
	exec := func(line string) {
		if ctx.Err() == nil && !runAndPrint(ctx, s.Conn, line, s.Stdout, s.Stderr) {
			ok = false
		}
	}
	for _, f := range s.Files {
		cmds, ferr := readScript(f)
		if ferr != nil {
			fmt.Fprintln(s.Stderr, "lakenode:", ferr)
			ok = false
		}
		for _, c := range cmds {
			exec(c.Text)
		}
	}
	for _, c := range s.Commands {
		exec(command.StripBlock(c))
	}
	switch {
	case len(s.Files) > 0 || len(s.Commands) > 0 || s.Serve:
	case s.Interactive:
		sh := New(s.Config)
		s.Events.attach(sh.Printer())
		err = sh.Run(ctx)
		s.Events.attach(nil)
	default:
		cmds, serr := command.SplitScript(bufio.NewReader(s.Stdin))
		if serr != nil {
			fmt.Fprintln(s.Stderr, "lakenode: stdin:", serr)
			ok = false
		}
		for _, c := range cmds {
			exec(c.Text)
		}
	}
	return ok, err
}

// readScript reads the commands of a script file; with an error, the
// commands before it.
func readScript(name string) ([]command.ScriptCommand, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = fh.Close() }()
	cmds, err := command.SplitScript(fh)
	if err != nil {
		return cmds, fmt.Errorf("%s: %w", name, err)
	}
	return cmds, nil
}

// runAndPrint runs one command and prints its reply (a StreamConn's rows
// as they come); it reports success.
func runAndPrint(ctx context.Context, conn Conn, line string, stdout, stderr io.Writer) bool {
	var rep Reply
	if sc, ok := conn.(StreamConn); ok {
		rep = sc.ExecuteTo(ctx, line, stdout, stderr)
	} else {
		rep = conn.Execute(ctx, line)
	}
	return rep.Print(stdout, stderr)
}

// Events prints a node's asynchronous lines: above the shell's prompt
// while a Session's shell runs, on its writer otherwise. A nil *Events
// prints nothing.
type Events struct {
	mu      sync.Mutex
	w       io.Writer
	printer func(string)
}

// NewEvents returns Events printing to w outside the shell.
func NewEvents(w io.Writer) *Events { return &Events{w: w} }

func (e *Events) attach(p func(string)) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.printer = p
	e.mu.Unlock()
}

// Print prints one line.
func (e *Events) Print(line string) {
	if e == nil {
		return
	}
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
