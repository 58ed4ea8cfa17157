package sqlshell

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
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

func (c *blockingConn) Complete(context.Context, string, string) []string { return nil }

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

// echoConn runs every command by echoing it.
type echoConn struct{}

func (echoConn) Execute(_ context.Context, line string) Reply      { return Reply{Text: "ran " + line} }
func (echoConn) Complete(context.Context, string, string) []string { return nil }

// TestBlocksAreStoredWhole: a `< ... >` block goes into the history file as
// the whole block on one line, also when a line of it was typed after
// browsing the history (Up, then Ctrl-U to clear the recalled entry) — which
// used to store the block's last line only.
func TestBlocksAreStoredWhole(t *testing.T) {
	const (
		up    = "\x1b[A"
		down  = "\x1b[B"
		ctrlU = "\x15"
		ctrlR = "\x12"
	)
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"plain block", "get version\n<get\nstatus>\n", []string{"get version", "get status"}},
		{"Up and Ctrl-U on the block's last line", "get version\n<get\n" + up + ctrlU + "status>\n", []string{"get version", "get status"}},
		{"Up and Ctrl-U on the block's first line", "get version\n" + up + ctrlU + "<run kafka consumer where\n" + up + up + ctrlU + "ip = 1>\n",
			[]string{"get version", "run kafka consumer where ip = 1"}},
		{"Up, Down and a three-line block", "get version\n<get\n" + up + down + "msg\n" + up + ctrlU + "client>\n",
			[]string{"get version", "get msg client"}},
		{"a recalled command run again is stored", "get version\nget status\n" + up + up + "\n", []string{"get version", "get status", "get version"}},
		{"search, then a block", "get version\n" + ctrlR + "vers\n<get\n" + up + ctrlU + "status>\n",
			[]string{"get version", "get status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hist := filepath.Join(t.TempDir(), "history")
			var out, errOut syncBuf
			sh := New(Config{Conn: echoConn{}, Prompt: "t", Stdin: strings.NewReader(tc.input), Stdout: &out, Stderr: &errOut, HistoryFile: hist})
			if err := sh.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(hist)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); !slices.Equal(got, tc.want) {
				t.Errorf("history %q, want %q; stdout %q", got, tc.want, out.String())
			}
		})
	}
}

// completeConn records what completion asked and answers fixed words.
type completeConn struct {
	echoConn
	before, after string
	words         []string
}

func (c *completeConn) Complete(_ context.Context, before, after string) []string {
	c.before, c.after = before, after
	return c.words
}

// TestCompleterSendsTheWholeCommand: completion sends the node the command
// typed so far, an unfinished block's lines included, split at the cursor,
// and offers the rest of each candidate that fits the word typed.
func TestCompleterSendsTheWholeCommand(t *testing.T) {
	tests := []struct {
		name          string
		block         []string
		line          string
		pos           int
		words         []string
		before, after string
		cands         []string
		offset        int
	}{
		{"a word", nil, "get versi", 9, []string{"version"}, "get versi", "", []string{"on "}, 5},
		{"after a blank", nil, "get ", 4, []string{"msg", "tables"}, "get ", "", []string{"msg ", "tables "}, 0},
		{"in a block", []string{`<sql lsl_demo "select value`}, "from p", 6, []string{"ping_sensor"}, `<sql lsl_demo "select value from p`, "", []string{"ing_sensor "}, 1},
		{"mid-line", nil, `sql d "select  from t"`, 14, []string{"value"}, `sql d "select `, ` from t"`, []string{"value "}, 0},
		{"case of the typed word", nil, "GET VER", 7, []string{"version"}, "GET VER", "", []string{"sion "}, 3},
		{"a candidate that does not fit is dropped", nil, "get v", 5, []string{"tables"}, "get v", "", nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := &completeConn{words: tc.words}
			c := &completer{conn: conn}
			c.setBlock(tc.block)
			got, off := c.Do([]rune(tc.line), tc.pos)
			if conn.before != tc.before || conn.after != tc.after {
				t.Errorf("sent %q | %q, want %q | %q", conn.before, conn.after, tc.before, tc.after)
			}
			var cands []string
			for _, r := range got {
				cands = append(cands, string(r))
			}
			if !slices.Equal(cands, tc.cands) || off != tc.offset {
				t.Errorf("candidates %q at %d, want %q at %d", cands, off, tc.cands, tc.offset)
			}
		})
	}
}
