package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary returns the lakenode binary under test.
func binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("LAKENODE_BIN")
	if bin == "" {
		t.Fatal("LAKENODE_BIN is not set: run the integration suite with `make integration` (or `make test`), which builds bin/lakenode")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("LAKENODE_BIN: %v", err)
	}
	return bin
}

// freeAddr returns a 127.0.0.1 address free now. Its port is drawn below
// the kernel's ephemeral range, which outgoing connections (the broker's,
// the nodes' own) take ports from: a port from that range was once taken
// by one between being chosen and a node binding it, and a --listen
// address that other nodes' --seeds name cannot simply be chosen again.
func freeAddr(t testing.TB) string {
	t.Helper()
	if lo, hi := 10000, ephemeralLow(); hi > lo+1000 {
		for range 200 {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", lo+rand.IntN(hi-lo)))
			if err == nil {
				defer ln.Close()
				return ln.Addr().String()
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ephemeralLow is the first port of the kernel's ephemeral range (0 when
// it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// nodeProc is one lakenode process started with --serve.
type nodeProc struct {
	t       testing.TB
	bin     string
	name    string
	dataDir string
	http    string
	listen  string
	script  string
	args    []string
	cmd     *exec.Cmd
	log     *os.File
	done    chan error
}

// otherAddrs is the --seeds value of node i of a cluster: every other
// node's --listen address.
func otherAddrs(addrs []string, i int) string {
	var seeds []string
	for j, o := range addrs {
		if j != i {
			seeds = append(seeds, o)
		}
	}
	return strings.Join(seeds, ",")
}

// startNode starts a node serving on random ports with the script's
// commands run at start-up, and waits until its REST port answers.
func startNode(t testing.TB, name, dataDir, script string, args ...string) *nodeProc {
	t.Helper()
	return startNodeWith(t, name, dataDir, freeAddr(t), script, args...)
}

// startNodeAt starts a node listening on a given --listen address.
func startNodeAt(t testing.TB, name, dataDir, listen string, args ...string) *nodeProc {
	t.Helper()
	return startNodeWith(t, name, dataDir, listen, "", args...)
}

func startNodeWith(t testing.TB, name, dataDir, listen, script string, args ...string) *nodeProc {
	t.Helper()
	p := &nodeProc{t: t, bin: binary(t), name: name, dataDir: dataDir, http: freeAddr(t), listen: listen, args: args}
	if script != "" {
		p.script = filepath.Join(t.TempDir(), "start.al")
		if err := os.WriteFile(p.script, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// freeAddr's port is free when chosen, not reserved: another process
	// may bind it first. A REST port taken so is chosen again.
	for try := 1; ; try++ {
		p.launch()
		if !p.serveOrExit() {
			break
		}
		if try == 3 || !strings.Contains(p.logTail(), "--http "+p.http) || !strings.Contains(p.logTail(), "address already in use") {
			t.Fatalf("lakenode exited during start-up\n%s", p.logTail())
		}
		p.http = freeAddr(t)
	}
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			p.kill()
		}
	})
	return p
}

func (p *nodeProc) start() {
	p.t.Helper()
	p.launch()
	p.awaitServing()
}

// launch starts the process without waiting for it to serve: a node
// started on a full disk waits for space before it serves.
func (p *nodeProc) launch() {
	t := p.t
	t.Helper()
	args := []string{"--serve", "--name", p.name, "--data-dir", p.dataDir, "--http", p.http, "--listen", p.listen, "--pg", "127.0.0.1:0", "--log-level", "info"}
	if p.script != "" {
		args = append(args, "-f", p.script)
	}
	args = append(args, p.args...)
	logPath := filepath.Join(t.TempDir(), "node.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.log = f
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting lakenode: %v", err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
}

// awaitServing waits until the launched process answers on its REST port;
// it fails the test if the process exits first.
func (p *nodeProc) awaitServing() {
	t := p.t
	t.Helper()
	waitFor(t, 60*time.Second, func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("lakenode exited during start-up: %v\n%s", err, p.logTail())
		default:
		}
		resp, err := http.Get("http://" + p.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "node %s to serve on %s", p.name, p.http)
}

// serveOrExit waits until the launched process answers on its REST port
// (false) or exits during start-up (true).
func (p *nodeProc) serveOrExit() (exited bool) {
	p.t.Helper()
	waitFor(p.t, 60*time.Second, func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			exited = true
			return true
		default:
		}
		resp, err := http.Get("http://" + p.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "node %s to serve on %s", p.name, p.http)
	return exited
}

// restart starts the process again on the same data dir, ports and script.
func (p *nodeProc) restart() {
	p.t.Helper()
	p.start()
}

// kill sends SIGKILL and waits for the process to end.
func (p *nodeProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.log.Close()
}

// stop sends SIGTERM (a graceful stop) and waits; it fails the test if the
// process does not end within a minute or exits with an error.
func (p *nodeProc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.log.Close()
		if err != nil {
			p.t.Fatalf("node %s exited with %v after SIGTERM\n%s", p.name, err, p.logTail())
		}
	case <-time.After(60 * time.Second):
		p.kill()
		p.t.Fatalf("node %s did not stop within 60 s of SIGTERM\n%s", p.name, p.logTail())
	}
}

func (p *nodeProc) logTail() string {
	b, _ := os.ReadFile(p.log.Name())
	lines := strings.Split(string(b), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return strings.Join(lines, "\n")
}

// reply is a REST command's answer.
type reply struct {
	Status  int
	Body    string
	Type    string
	Notices []string
}

// exec runs a command through the REST port.
func (p *nodeProc) exec(command string) reply {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.http+"/", nil)
	req.Header.Set("command", command)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("REST %q: %v\n%s", command, err, p.logTail())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: string(b), Type: resp.Header.Get("Content-Type"), Notices: resp.Header.Values("X-Lakenode-Notice")}
}

// mustExec runs a command and fails the test unless it succeeds.
func (p *nodeProc) mustExec(command string) string {
	p.t.Helper()
	r := p.exec(command)
	if r.Status != http.StatusOK {
		p.t.Fatalf("%q: status %d: %s\n%s", command, r.Status, r.Body, p.logTail())
	}
	return r.Body
}

// rowCount returns the rows of dbms.table, from `get rows count`.
func (p *nodeProc) rowCount(dbms, table string) int64 {
	p.t.Helper()
	r := p.exec(fmt.Sprintf("get rows count where dbms = %s and table = %s and format = json", dbms, table))
	if r.Status != http.StatusOK {
		return -1
	}
	return parseCount(r.Body, dbms, table)
}

// waitFor polls cond every 50 ms until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runCLI runs lakenode with args (no --serve) and returns stdout, stderr
// and the exit status.
func runCLI(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running lakenode: %v", err)
	}
	return out.String(), errb.String(), code
}

var _ = strconv.Itoa
