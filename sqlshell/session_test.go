package sqlshell

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scriptConn answers "fail ..." with an error, "note ..." with a notice
// and its text, anything else with "ran LINE"; it records the lines.
type scriptConn struct{ lines []string }

func (c *scriptConn) Execute(_ context.Context, line string) Reply {
	c.lines = append(c.lines, line)
	switch {
	case strings.HasPrefix(line, "fail"):
		return Reply{Err: "error: " + line}
	case strings.HasPrefix(line, "note"):
		return Reply{Text: "ran " + line, Notices: []string{"notice: " + line}}
	}
	return Reply{Text: "ran " + line}
}

func (c *scriptConn) Complete(context.Context, string, string) []string { return nil }

// streamingConn writes its rows itself (a StreamConn).
type streamingConn struct{ scriptConn }

func (c *streamingConn) ExecuteTo(_ context.Context, line string, stdout, _ io.Writer) Reply {
	c.lines = append(c.lines, line)
	_, _ = io.WriteString(stdout, "streamed "+line+"\n")
	return Reply{}
}

// TestSessionScripts: -f scripts, then -c commands, in order, blocks
// joined; a failed command or a missing script fails the session without
// stopping the rest; stdin is not read when there are commands.
func TestSessionScripts(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "a.lk")
	if err := os.WriteFile(script, []byte("# comment\none\n<two\n  lines>\nfail three\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conn := &scriptConn{}
	var out, errOut bytes.Buffer
	s := Session{
		Config:   Config{Conn: conn, Stdin: strings.NewReader("never read\n"), Stdout: &out, Stderr: &errOut},
		Files:    []string{script, filepath.Join(dir, "missing.lk")},
		Commands: []string{"note four", "<five\nsix>"},
	}
	ok, err := s.Run(context.Background())
	if err != nil || ok {
		t.Fatalf("Run = %v, %v; want a failed session", ok, err)
	}
	want := []string{"one", "two lines", "fail three", "note four", "five\nsix"}
	if strings.Join(conn.lines, "|") != strings.Join(want, "|") {
		t.Fatalf("ran %q, want %q", conn.lines, want)
	}
	if got := out.String(); got != "ran one\nran two lines\nran note four\nran five\nsix\n" {
		t.Errorf("stdout %q", got)
	}
	if e := errOut.String(); !strings.Contains(e, "error: fail three\n") || !strings.Contains(e, "lakenode: open "+filepath.Join(dir, "missing.lk")) || !strings.Contains(e, "notice: note four\n") {
		t.Errorf("stderr %q", e)
	}
}

// TestSessionStdin: with no scripts or commands and no terminal, the
// commands come from stdin; with Serve, stdin is left alone; a StreamConn
// writes its own output.
func TestSessionStdin(t *testing.T) {
	conn := &streamingConn{}
	var out, errOut bytes.Buffer
	s := Session{Config: Config{Conn: conn, Stdin: strings.NewReader("a\nb\n"), Stdout: &out, Stderr: &errOut}}
	if ok, err := s.Run(context.Background()); !ok || err != nil {
		t.Fatalf("Run = %v, %v; stderr %q", ok, err, errOut.String())
	}
	if out.String() != "streamed a\nstreamed b\n" {
		t.Errorf("stdout %q", out.String())
	}
	served := &scriptConn{}
	s = Session{Config: Config{Conn: served, Stdin: strings.NewReader("a\n"), Stdout: &out, Stderr: &errOut}, Serve: true}
	if ok, err := s.Run(context.Background()); !ok || err != nil || len(served.lines) != 0 {
		t.Fatalf("served: Run = %v, %v, ran %q", ok, err, served.lines)
	}
}

// TestSessionCanceled: once ctx ends, no further command runs.
func TestSessionCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	conn := &scriptConn{}
	var out, errOut bytes.Buffer
	s := Session{Config: Config{Conn: conn, Stdout: &out, Stderr: &errOut}, Commands: []string{"one", "two"}}
	if ok, err := s.Run(ctx); !ok || err != nil || len(conn.lines) != 0 {
		t.Fatalf("Run = %v, %v, ran %q", ok, err, conn.lines)
	}
}

// TestEvents: lines go to the writer with a newline, to the shell's
// printer while one is attached, and nowhere from a nil *Events.
func TestEvents(t *testing.T) {
	var w bytes.Buffer
	e := NewEvents(&w)
	e.Print("one")
	var got []string
	e.attach(func(l string) { got = append(got, l) })
	e.Print("two\n")
	e.attach(nil)
	e.Print("three\n")
	if w.String() != "one\nthree\n" || len(got) != 1 || got[0] != "two\n" {
		t.Fatalf("writer %q, printer %q", w.String(), got)
	}
	var none *Events
	none.Print("dropped")
	none.attach(nil)
}
