// Package kafkatest runs real Kafka brokers for lakenode's tests, each in a
// process of its own so that killing a node under test leaves its broker
// running: franz-go's kfake (built from kafkatest/kfakebroker) or Apache
// Kafka 4.4.0 in KRaft mode from the jars `make kafka-jars` fetches.
//
// Integration tests share one broker per test binary:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//	func TestX(t *testing.T) { b := kafkatest.Shared(t); ... }
//
// LAKENODE_TEST_BROKER=kfake|apache picks the broker (default kfake);
// LAKENODE_TEST_KAFKA=host:port uses an existing one instead;
// LAKENODE_KAFKA_LIBS names the directory of the Apache Kafka jars.
package kafkatest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker is a Kafka broker for tests.
type Broker struct {
	kind    string // kfake, apache or external
	addr    string
	dir     string // data (and config) directory
	ctrl    string // apache: controller address
	cmd     *exec.Cmd
	done    chan error
	logPath string
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// Kind is "kfake", "apache" or "external".
func (b *Broker) Kind() string { return b.kind }

var (
	sharedMu sync.Mutex
	shared   *Broker
)

// Main runs the tests and then stops the shared broker.
func Main(m *testing.M) {
	code := m.Run()
	sharedMu.Lock()
	if shared != nil {
		shared.Close()
	}
	sharedMu.Unlock()
	os.Exit(code)
}

// Shared returns the broker shared by the tests of this binary, starting it
// on first use. Tests that stop or kill a broker must start their own.
func Shared(t testing.TB) *Broker {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		b, err := fromEnv()
		if err != nil {
			t.Fatal(err)
		}
		shared = b
	}
	return shared
}

// FromEnv starts a broker of the kind the environment asks for, stopped at
// the end of the test.
func FromEnv(t testing.TB) *Broker {
	t.Helper()
	b, err := fromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func fromEnv() (*Broker, error) {
	if addr := os.Getenv("LAKENODE_TEST_KAFKA"); addr != "" {
		return &Broker{kind: "external", addr: addr}, nil
	}
	switch k := os.Getenv("LAKENODE_TEST_BROKER"); k {
	case "", "kfake":
		return startKfake()
	case "apache":
		return startApache()
	default:
		return nil, fmt.Errorf("LAKENODE_TEST_BROKER=%q: use kfake or apache", k)
	}
}

// StartKfake starts a kfake broker process, stopped at the end of the test.
func StartKfake(t testing.TB) *Broker {
	t.Helper()
	b, err := startKfake()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// StartApache starts an Apache Kafka broker, stopped at the end of the test.
func StartApache(t testing.TB) *Broker {
	t.Helper()
	b, err := startApache()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

var (
	kfakeBinOnce sync.Once
	kfakeBin     string
	kfakeBinErr  error
)

// buildKfake builds kfakebroker once per test binary (the Go build cache
// makes it cheap).
func buildKfake() (string, error) {
	kfakeBinOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "kfakebroker-")
		if err != nil {
			kfakeBinErr = err
			return
		}
		kfakeBin = filepath.Join(dir, "kfakebroker")
		cmd := exec.Command("go", "build", "-o", kfakeBin, "./kfakebroker")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			kfakeBinErr = fmt.Errorf("building kfakebroker: %v\n%s", err, out)
		}
	})
	return kfakeBin, kfakeBinErr
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

func startKfake() (*Broker, error) {
	dir, err := os.MkdirTemp("", "kfake-data-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b := &Broker{kind: "kfake", addr: addr, dir: dir}
	return b, b.Start()
}

// Start starts the broker process (again, after Stop or Kill: same address,
// same data).
func (b *Broker) Start() error {
	switch b.kind {
	case "kfake":
		bin, err := buildKfake()
		if err != nil {
			return err
		}
		b.logPath = filepath.Join(b.dir, "broker.log")
		return b.spawn(exec.Command(bin, "-listen", b.addr, "-data-dir", filepath.Join(b.dir, "data")))
	case "apache":
		libs := os.Getenv("LAKENODE_KAFKA_LIBS")
		b.logPath = filepath.Join(b.dir, "kafka.log")
		cmd := exec.Command("java", "-Xmx512m", "-XX:+UseSerialGC", "-Dlog4j2.configurationFile="+filepath.Join(b.dir, "log4j2.properties"),
			"-cp", filepath.Join(libs, "*"), "kafka.Kafka", filepath.Join(b.dir, "server.properties"))
		return b.spawn(cmd)
	}
	return errors.New("kafkatest: an external broker cannot be started")
}

func (b *Broker) spawn(cmd *exec.Cmd) error {
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("starting the %s broker: %w", b.kind, err)
	}
	b.cmd = cmd
	b.done = make(chan error, 1)
	go func() { b.done <- cmd.Wait(); _ = logf.Close() }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-b.done:
			b.done <- err
			return fmt.Errorf("the %s broker exited during start-up: %v\n%s", b.kind, err, b.LogTail(40))
		default:
		}
		if b.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			b.Kill()
			return fmt.Errorf("the %s broker on %s was not ready within 90 s\n%s", b.kind, b.addr, b.LogTail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready reports whether the broker answers metadata requests and reports
// itself as a broker.
func (b *Broker) ready() bool {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.RequestRetries(0))
	if err != nil {
		return false
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	return err == nil && len(md.Brokers) > 0
}

// Stop stops the broker gracefully (SIGTERM; SIGKILL after 30 s).
func (b *Broker) Stop() {
	if b.cmd == nil || b.done == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.done:
		b.done <- err
	case <-time.After(30 * time.Second):
		b.Kill()
	}
}

// Close stops the broker and removes its data.
func (b *Broker) Close() {
	b.Stop()
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// Kill kills the broker process (SIGKILL).
func (b *Broker) Kill() {
	if b.cmd == nil || b.done == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	err := <-b.done
	b.done <- err
}

// LogTail returns the last n lines of the broker's log.
func (b *Broker) LogTail(n int) string {
	f, err := os.Open(b.logPath)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func startApache() (*Broker, error) {
	libs := os.Getenv("LAKENODE_KAFKA_LIBS")
	if libs == "" {
		return nil, errors.New("LAKENODE_KAFKA_LIBS is not set: run `make kafka-jars` (Java 17 and Maven needed) and point it at .cache/kafka-4.4.0/libs, or run the suite with `make test`")
	}
	if m, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar")); len(m) == 0 {
		return nil, fmt.Errorf("no Apache Kafka jars in %s: run `make kafka-jars`", libs)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java is not installed: the Apache Kafka tests need Java 17")
	}
	dir, err := os.MkdirTemp("", "apache-kafka-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ctrl, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b := &Broker{kind: "apache", addr: addr, ctrl: ctrl, dir: dir}
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=%[2]s
listeners=PLAINTEXT://%[1]s,CONTROLLER://%[2]s
advertised.listeners=PLAINTEXT://%[1]s
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[3]s
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
group.max.session.timeout.ms=300000
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
`, addr, ctrl, filepath.Join(dir, "logs"))
	if err := os.WriteFile(filepath.Join(dir, "server.properties"), []byte(props), 0o644); err != nil {
		return nil, err
	}
	logCfg := "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = out\nappender.out.type = Console\nappender.out.name = out\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\n"
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(logCfg), 0o644); err != nil {
		return nil, err
	}
	b.logPath = filepath.Join(dir, "kafka.log")
	format := exec.Command("java", "-cp", filepath.Join(libs, "*"), "kafka.tools.StorageTool", "format", "--standalone",
		"-t", "lakenode-test-cluster1", "-c", filepath.Join(dir, "server.properties"))
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("formatting the Apache Kafka storage: %v\n%s", err, out)
	}
	return b, b.Start()
}

// Client returns a franz-go client of the broker, closed at the end of the
// test.
func (b *Broker) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates a topic (an existing one is fine).
func CreateTopic(t testing.TB, b *Broker, name string, partitions int32) {
	t.Helper()
	cl := b.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, name)
	if err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating topic %s: %v", name, err)
	}
	if resp.Err != nil && !strings.Contains(resp.Err.Error(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("creating topic %s: %v", name, resp.Err)
	}
}

// Produce sends values to topic and returns once all are acknowledged.
func Produce(t testing.TB, b *Broker, topic string, values ...[]byte) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: v}
	}
	ProduceRecords(t, b, recs...)
}

// ProduceRecords sends records and returns once all are acknowledged.
func ProduceRecords(t testing.TB, b *Broker, recs ...*kgo.Record) {
	t.Helper()
	cl := b.Client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(20))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(recs), err)
	}
}

// EndOffsets returns the end offset of each partition of topic.
func EndOffsets(t testing.TB, b *Broker, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lo, err := kadm.NewClient(b.Client(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// ConsumeAll reads n records of topic from the start, or fails after timeout.
func ConsumeAll(t testing.TB, b *Broker, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s within %v", len(out), n, topic, timeout)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// WaitFor polls cond every 50 ms until it holds, or fails the test after
// timeout.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
