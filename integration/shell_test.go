package integration

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyShell runs lakenode's interactive shell in a pseudo-terminal.
type ptyShell struct {
	t   *testing.T
	f   *os.File
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func startShell(t *testing.T, args ...string) *ptyShell {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("starting the shell in a pty: %v", err)
	}
	s := &ptyShell{t: t, f: f, cmd: cmd}
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
