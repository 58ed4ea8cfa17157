package sqlshell

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// blockingConn answers "slow" only when its context is canceled.
type blockingConn struct {
	mu      sync.Mutex
	entered chan struct{}
	lines   []string
}

func (c *blockingConn) Execute(ctx context.Context, line string) Reply {
	c.mu.Lock()
	c.lines = append(c.lines, line)
	c.mu.Unlock()
	if line != "slow" {
		return Reply{Text: "ran " + line}
	}
	close(c.entered)
	select {
	case <-ctx.Done():
		return Reply{Err: "query canceled"}
	case <-time.After(30 * time.Second):
		return Reply{Err: "not canceled"}
	}
}

func (c *blockingConn) Complete(context.Context, string) []string { return nil }

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCtrlCCancelsTheRunningCommand: SIGINT while a command runs cancels
// that command, not the shell, which then runs the next one.
func TestCtrlCCancelsTheRunningCommand(t *testing.T) {
	pr, pw := io.Pipe()
	conn := &blockingConn{entered: make(chan struct{})}
	var out, errOut syncBuf
	sh := New(Config{Conn: conn, Prompt: "t", Stdin: pr, Stdout: &out, Stderr: &errOut, HistoryFile: "-"})
	done := make(chan error, 1)
	go func() { done <- sh.Run(context.Background()) }()
	if _, err := io.WriteString(pw, "slow\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-conn.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not start")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "query canceled") {
		if time.Now().After(deadline) {
			t.Fatalf("the command was not canceled; stderr: %q", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(pw, "get version\n<get\nversion>\nexit\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the shell did not leave on exit")
	}
	if !strings.Contains(out.String(), "ran get version") {
		t.Errorf("stdout %q", out.String())
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if got := strings.Join(conn.lines, ";"); got != "slow;get version;get version" {
		t.Errorf("commands run: %q", got)
	}
}

// TestHistoryHidesPasswords: the history file holds the command with its
// password as ***, while the node gets the command as typed.
func TestHistoryHidesPasswords(t *testing.T) {
	hist := t.TempDir() + "/history"
	conn := &blockingConn{entered: make(chan struct{})}
	var out, errOut syncBuf
	in := "sql d dest = kafka@h:1 and topic = t and sasl = plain and user = u and password = hunter2 \"select 1\"\n<run kafka consumer where ip = h and port = 1 and\npassword = \"two words\" and topic = (name = t)>\nexit\n"
	sh := New(Config{Conn: conn, Prompt: "t", Stdin: strings.NewReader(in), Stdout: &out, Stderr: &errOut, HistoryFile: hist})
	if err := sh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "two words") || strings.Count(string(b), "password = ***") != 2 {
		t.Errorf("history file:\n%s", b)
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if len(conn.lines) != 2 || !strings.Contains(conn.lines[0], "hunter2") {
		t.Errorf("commands run: %q", conn.lines)
	}
}
