package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// apacheReadyTimeout bounds an Apache Kafka broker's start (JVM start,
// controller election, broker registration) on a busy machine.
const apacheReadyTimeout = 120 * time.Second

// jvmOptions are the broker's JVM settings: a 512 MB heap and the garbage
// collector settings of Kafka's own start scripts.
var jvmOptions = []string{
	"-Xmx512m",
	"-XX:+UseG1GC",
	"-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35",
	"-XX:+ExplicitGCInvokesConcurrent",
	"-Djava.awt.headless=true",
}

// StartApache starts an Apache Kafka 4.4.0 broker (combined KRaft broker and
// controller) for this test from the jars in LAKENODE_KAFKA_LIBS; it is
// stopped at the end of the test. It fails the test, never skips it, when the
// jars or Java are missing.
func StartApache(t testing.TB) *Broker {
	t.Helper()
	b, err := newApache(t.TempDir())
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() { b.close(false) })
	return b
}

// kafkaLibs returns the directory of the Apache Kafka jars named by
// LAKENODE_KAFKA_LIBS, after checking that it holds them.
func kafkaLibs() (string, error) {
	libs := os.Getenv("LAKENODE_KAFKA_LIBS")
	if libs == "" {
		return "", errors.New("LAKENODE_KAFKA_LIBS is not set: run `make kafka-jars` (needs Java 17 and Maven) " +
			"and set LAKENODE_KAFKA_LIBS to .cache/kafka-4.4.0/libs, or run the suite with `make integration`")
	}
	if !filepath.IsAbs(libs) {
		root, err := moduleRoot()
		if err != nil {
			return "", fmt.Errorf("LAKENODE_KAFKA_LIBS=%s: %w", libs, err)
		}
		libs = filepath.Join(root, libs)
	}
	if m, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar")); len(m) == 0 {
		return "", fmt.Errorf("LAKENODE_KAFKA_LIBS=%s holds no kafka_2.13 jar: run `make kafka-jars`", libs)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("java is not on PATH: the Apache Kafka broker needs Java 17")
	}
	return libs, nil
}

// moduleRoot is the directory of the go.mod above this package's sources.
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the kafkatest sources")
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("no go.mod above the kafkatest sources")
		}
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// clusterID returns a random KRaft cluster id: 16 bytes, URL-safe base64,
// not starting with '-' (which the storage tool would take for an option).
func clusterID() (string, error) {
	var id [16]byte
	for {
		if _, err := rand.Read(id[:]); err != nil {
			return "", fmt.Errorf("generating a cluster id: %w", err)
		}
		if s := base64.RawURLEncoding.EncodeToString(id[:]); s[0] != '-' {
			return s, nil
		}
	}
}

// serverProperties is the configuration of a single-node KRaft cluster on
// loopback: broker listener, controller listener, data directory. A broker
// restarted after SIGKILL re-registers only once the controller expired its
// old session, so the session is 4 s rather than the default 9 s.
//
// A second listener, SASL_SSL on saddr, serves clients with TLS and SCRAM;
// secured holds its settings. The broker and controller talk PLAINTEXT.
func serverProperties(addr, ctrl, logDir, saddr, secured string) string {
	return fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=%[2]s
listeners=PLAINTEXT://%[1]s,CONTROLLER://%[2]s,SASL_SSL://%[4]s
advertised.listeners=PLAINTEXT://%[1]s,SASL_SSL://%[4]s
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
%[5]slog.dirs=%[3]s
num.partitions=4
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.max.session.timeout.ms=300000
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
`, addr, ctrl, logDir, saddr, secured)
}

// log4jProperties sends the broker's log, at INFO, to stdout (the log file).
const log4jProperties = `rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.request.name = kafka.request.logger
logger.request.level = WARN
`

// newApache configures an Apache Kafka broker in dir on two free loopback
// ports, formats its storage and starts it.
func newApache(dir string) (*Broker, error) {
	libs, err := kafkaLibs()
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
	for ctrl == addr {
		if ctrl, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	secured, securedProps, err := apacheSecured(dir)
	if err != nil {
		return nil, err
	}
	for secured.Addr == addr || secured.Addr == ctrl {
		if secured.Addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	secured.Broker = &Broker{kind: KindExternal, addr: secured.Addr, clientOpts: secured.Opts()}
	b := &Broker{kind: KindApache, dir: dir, libs: libs, addr: addr, ctrl: ctrl,
		logPath: filepath.Join(dir, "kafka.log"), secured: secured}
	props := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(props, []byte(serverProperties(addr, ctrl, filepath.Join(dir, "kafka-logs"), secured.Addr, securedProps)), 0o600); err != nil {
		return nil, fmt.Errorf("writing server.properties: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(log4jProperties), 0o644); err != nil {
		return nil, fmt.Errorf("writing log4j2.properties: %w", err)
	}
	id, err := clusterID()
	if err != nil {
		return nil, err
	}
	format := b.java(append([]string{"-Xmx256m", "kafka.tools.StorageTool", "format", "--standalone", "-t", id, "-c", props}, secured.scramArgs()...)...)
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("formatting the Apache Kafka storage: %w\n%s", err, out)
	}
	if err := b.Start(); err != nil {
		return nil, err
	}
	return b, nil
}

// java returns a java command on the Kafka classpath with the broker's log
// configuration; args are JVM options, the main class and its arguments.
func (b *Broker) java(args ...string) *exec.Cmd {
	base := []string{
		"-Dlog4j2.configurationFile=" + filepath.Join(b.dir, "log4j2.properties"),
		"-cp", filepath.Join(b.libs, "*"),
	}
	return exec.Command("java", append(base, args...)...)
}

// startApacheLocked runs kafka.Kafka and waits until the broker answers
// metadata requests and can create a topic.
func (b *Broker) startApacheLocked() error {
	args := append(append([]string{}, jvmOptions...), "kafka.Kafka", filepath.Join(b.dir, "server.properties"))
	p, err := b.spawn(b.java(args...))
	if err != nil {
		return err
	}
	return b.awaitReady(p, apacheReadyTimeout, func(ctx context.Context) error {
		if err := answersMetadata(ctx, b.addr); err != nil {
			return err
		}
		return acceptsTopics(ctx, b.addr)
	})
}
