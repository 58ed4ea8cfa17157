package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyShell runs lakenode's interactive shell in a pseudo-terminal.
type ptyShell struct {
	t    *testing.T
	home string // its HOME, where ~/.lakenode_history goes
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
}

func startShell(t *testing.T, args ...string) *ptyShell {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("starting the shell in a pty: %v", err)
	}
	s := &ptyShell{t: t, home: home, f: f, cmd: cmd}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			// Answer cursor-position queries as a terminal would.
			for range bytes.Count(buf[:n], []byte("\x1b[6n")) {
				_, _ = f.Write([]byte("\x1b[1;1R"))
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = f.Close()
	})
	s.expect("> ")
	return s
}

func (s *ptyShell) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the output holds want (after what was already seen).
func (s *ptyShell) expect(want string) {
	s.t.Helper()
	waitFor(s.t, 30*time.Second, func() bool { return strings.Contains(s.screen(), want) }, "the shell to print %q; screen:\n%s", want, s.screen())
}

// expectCount waits until want appears n times.
func (s *ptyShell) expectCount(want string, n int) {
	s.t.Helper()
	waitFor(s.t, 30*time.Second, func() bool { return strings.Count(s.screen(), want) >= n }, "%q %d times; screen:\n%s", want, n, s.screen())
}

func (s *ptyShell) send(keys string) {
	s.t.Helper()
	if _, err := s.f.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// TestShellInTerminal drives the shell through a pseudo-terminal: tab
// completion, history, a multi-line block, Ctrl-C at the prompt, help, an
// asynchronous line printed while a command is being typed, and Ctrl-D.
func TestShellInTerminal(t *testing.T) {
	dead := freeAddr(t) // nothing listens here: the consumer will report it
	ver := binVersion(t)
	s := startShell(t, "--data-dir", t.TempDir(), "--name", "shelltest")
	s.expect("shelltest> ")

	// Tab completes a command word.
	s.send("get versi\t\r")
	s.expectCount(ver, 1)
	// History: Up recalls the last command.
	s.send("\x1b[A\r")
	s.expectCount(ver, 2)
	// A multi-line block.
	s.send("<get\r")
	s.expect("... ")
	s.send("version>\r")
	s.expectCount(ver, 3)
	// Ctrl-C clears the line being typed; the shell goes on.
	s.send("frobnicate the\x03")
	s.expect("^C")
	s.send("help\r")
	s.expect("run kafka consumer")
	// An asynchronous line (the consumer cannot reach its broker) appears
	// while a command is half typed, and the command still runs whole.
	host, port := strings.Split(dead, ":")[0], strings.Split(dead, ":")[1]
	s.send(`run kafka consumer where ip = ` + host + ` and port = ` + port + ` and topic = (name = t and dbms = d and table = x and column.v.int = "bring [v]")` + "\r")
	s.expect("does not answer")
	s.send("get proc")
	s.expect("(retrying with backoff)")
	s.send("esses\r")
	s.expect("Kafka Consumer #1")
	// A command error with a caret, then Ctrl-D leaves.
	s.send("get columns where dbms = d and table = nope\r")
	s.expect("does not exist")
	s.send("\x04")
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shell exited with %v\n%s", err, s.screen())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the shell did not leave on Ctrl-D\n%s", s.screen())
	}
}

// TestShellCompletionAndBlockHistory drives the demo's shell through a
// pseudo-terminal: completion knows the command typed so far, an earlier
// line of a block included (a table after `from`, the get commands after
// `get`), and a block typed after a Tab listing, Up and Ctrl-U is stored in
// the history file whole, not as its last line.
func TestShellCompletionAndBlockHistory(t *testing.T) {
	s := startShell(t, "demo", "--kafka-embedded", freeAddr(t), "--http", freeAddr(t), "--pg", "127.0.0.1:0", "--data-dir", t.TempDir())
	s.expect("demo> ")
	ver := binVersion(t)
	s.send("get versi\t\r")
	s.expectCount(ver, 1)
	// A table after `from` on the second line of a block: the only table
	// of litsanleandro.
	s.send(`<sql litsanleandro format = table "select count(*)` + "\r")
	s.expect("... ")
	s.send("from p\t")
	s.expect("from ping_sensor ")
	s.send("\">\r")
	s.expect("--------|")
	// A Tab listing of what follows `get` on a block's second line, then Up
	// (which recalls the last command), Ctrl-U and the block's last line.
	s.send("<get\r")
	s.expectCount("... ", 2)
	mark := len(s.screen())
	s.send("\t")
	s.expect("databases")
	s.expect("streaming")
	if listing := s.screen()[mark:]; strings.Contains(listing, "kafka") || strings.Contains(listing, "select") {
		t.Fatalf("the listing after get offers more than the get commands:\n%s", listing)
	}
	s.send("\x1b[A\x15version>\r")
	s.expectCount(ver, 2)
	s.send("\x04")
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shell exited with %v\n%s", err, s.screen())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the shell did not leave on Ctrl-D\n%s", s.screen())
	}
	b, err := os.ReadFile(filepath.Join(s.home, ".lakenode_history"))
	if err != nil {
		t.Fatal(err)
	}
	want := "get version\n" + `sql litsanleandro format = table "select count(*) from ping_sensor "` + "\nget version\n"
	if string(b) != want {
		t.Fatalf("history file:\n%s\nwant:\n%s", b, want)
	}
}

// TestConnect runs commands against a running node through --connect (remote
// actor messages): same output and exit codes as local, and the shell.
func TestConnect(t *testing.T) {
	n := startNode(t, "remote-node", t.TempDir(), "")
	out, errOut, code := runCLI(t, "", "--connect", n.listen, "-c", "get version", "-c", "get rows count where format = json")
	if code != 0 || out != binVersion(t)+"\n[]\n" {
		t.Fatalf("--connect -c: %d %q %q", code, out, errOut)
	}
	_, errOut, code = runCLI(t, "", "--connect", n.listen, "-c", `sql d "select 1 from t"`, "-c", "run streamer")
	if code != 1 || !strings.Contains(errOut, "dbms d has no tables") || !strings.Contains(errOut, "^") || !strings.Contains(errOut, "run streamer: ignored") {
		t.Fatalf("--connect errors: %d %q", code, errOut)
	}
	out, _, code = runCLI(t, "get version\n", "--connect", n.listen)
	if code != 0 || !strings.Contains(out, "lakenode") {
		t.Fatalf("--connect stdin: %d %q", code, out)
	}
	if _, errOut, code = runCLI(t, "", "--connect", freeAddr(t), "-c", "get version"); code != 1 || !strings.Contains(errOut, "cannot reach a node") {
		t.Fatalf("--connect to nothing: %d %q", code, errOut)
	}
	s := startShell(t, "--connect", n.listen)
	s.expect(n.listen + "> ")
	s.send("get versi\t\r")
	s.expect(binVersion(t))
	s.send("\x04")
	n.stop()
}

// binVersion is what `get version` prints for the binary under test.
func binVersion(t *testing.T) string {
	t.Helper()
	out, _, code := runCLI(t, "", "--version")
	if code != 0 {
		t.Fatalf("lakenode --version exited %d", code)
	}
	return strings.TrimSpace(out)
}
