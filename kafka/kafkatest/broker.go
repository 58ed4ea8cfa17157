package kafkatest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker kinds, as Kind reports them.
const (
	KindKfake    = "kfake"
	KindApache   = "apache"
	KindExternal = "external"
)

// stopGrace is how long Stop waits for a broker to shut down after SIGTERM
// before it kills it.
const stopGrace = 30 * time.Second

// readyTopic is created and deleted again to prove that an Apache Kafka
// broker's controller accepts topics.
const readyTopic = "_kafkatest_ready"

// Broker is a Kafka broker for tests: a kfake or Apache Kafka process that
// this package started, or an external broker it only knows the address of.
// Its methods may be called from several goroutines.
type Broker struct {
	kind string
	dir  string // configuration, data and log of a broker process
	libs string // apache: the directory of the jars

	mu      sync.Mutex
	addr    string // host:port of the broker listener; fixed after the first start
	ctrl    string // apache: host:port of the controller listener
	logPath string
	proc    *process

	// The TLS and SCRAM listener (see Secured): on an Apache Kafka broker a
	// second listener of the same process; beside a kfake broker a second
	// kfake process (companion), started on first use.
	secured    *Secured
	securedErr error
	securedMu  sync.Mutex
	companion  *Broker
	clientOpts []kgo.Opt // options of every client of this broker (a secured kfake)
	extraArgs  []string  // kfake: more kfakebroker arguments
	extraEnv   []string  // kfake: more environment
}

// process is one run of a broker.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Kind is "kfake", "apache" or "external".
func (b *Broker) Kind() string { return b.kind }

// Start starts the broker process again after Stop or Kill, on the same port
// and with the same data. It fails for an external broker and for a broker
// that is running.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kind == KindExternal {
		return errors.New("kafkatest: an external broker cannot be started")
	}
	if b.proc != nil && !b.proc.exited() {
		return fmt.Errorf("kafkatest: the %s broker on %s is running", b.kind, b.addr)
	}
	return b.startLocked()
}

func (b *Broker) startLocked() error {
	switch b.kind {
	case KindKfake:
		return b.startKfakeLocked()
	case KindApache:
		return b.startApacheLocked()
	}
	return fmt.Errorf("kafkatest: cannot start a broker of kind %q", b.kind)
}

// Stop stops the broker gracefully: SIGTERM, then SIGKILL if it is still
// running after 30 s. It does nothing for an external or stopped broker.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

func (b *Broker) stopLocked() {
	p := b.proc
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill kills the broker process (SIGKILL) and waits until it is gone. It
// does nothing for an external or stopped broker.
func (b *Broker) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.killLocked()
}

func (b *Broker) killLocked() {
	p := b.proc
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// close stops the broker and removes its directory when removeDir is set.
func (b *Broker) close(removeDir bool) {
	b.securedMu.Lock()
	if b.companion != nil {
		b.companion.close(false)
	}
	b.securedMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
	if removeDir && b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// pid is the process id of the running broker, 0 if none.
func (b *Broker) pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil || b.proc.exited() {
		return 0
	}
	return b.proc.cmd.Process.Pid
}

// Client returns a franz-go client seeded with the broker's address and
// configured with opts; it is closed at the end of the test.
func (b *Broker) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := b.newClient(opts...)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (b *Broker) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, b.clientOpts...), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating a client of %s: %w", b.Addr(), err)
	}
	return cl, nil
}

// LogTail returns the last n lines of the broker process's log ("" for an
// external broker).
func (b *Broker) LogTail(n int) string {
	b.mu.Lock()
	path := b.logPath
	b.mu.Unlock()
	return logTail(path, n)
}

func logTail(path string, n int) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	lines := make([]string, 0, n+1)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// spawn starts cmd with its stderr (and stdout, unless the caller set it)
// appended to the broker's log, and records it as the broker's process.
func (b *Broker) spawn(cmd *exec.Cmd) (*process, error) {
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the broker log: %w", err)
	}
	if cmd.Stdout == nil {
		cmd.Stdout = logf
	}
	cmd.Stderr = logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("starting the %s broker: %w", b.kind, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	b.proc = p
	return p, nil
}

// awaitReady polls check until it succeeds, the process exits or timeout
// passes; on failure it kills the process and reports the end of its log.
func (b *Broker) awaitReady(p *process, timeout time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("the %s broker exited while starting (%v; last check: %v); last lines of its log:\n%s",
				b.kind, p.err, last, logTail(b.logPath, 40))
		}
		if time.Now().After(deadline) {
			b.killLocked()
			return fmt.Errorf("the %s broker on %s was not ready within %v (%v); last lines of its log:\n%s",
				b.kind, b.addr, timeout, last, logTail(b.logPath, 40))
		}
		select {
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// answersMetadata reports whether the broker at addr answers a metadata
// request and lists itself.
func answersMetadata(ctx context.Context, addr string, opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RequestRetries(0)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata request: %w", err)
	}
	if len(md.Brokers) == 0 {
		return errors.New("metadata lists no broker")
	}
	return nil
}

// acceptsTopics reports whether the broker at addr can create (and delete) a
// topic, which needs an active controller.
func acceptsTopics(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, 1, 1, nil, readyTopic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating a topic: %w", err)
	}
	dr, err := adm.DeleteTopic(ctx, readyTopic)
	if err == nil {
		err = dr.Err
	}
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("deleting a topic: %w", err)
	}
	return nil
}
