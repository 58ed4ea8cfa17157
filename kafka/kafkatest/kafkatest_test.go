package kafkatest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMain(m *testing.M) { Main(m) }

// values returns n distinct JSON payloads.
func values(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"i":%d}`, from+i)
	}
	return out
}

// sortedValues returns the records' values as sorted strings.
func sortedValues(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	slices.Sort(out)
	return out
}

func wantValues(t *testing.T, recs []*kgo.Record, want [][]byte) {
	t.Helper()
	w := make([]string, len(want))
	for i, v := range want {
		w[i] = string(v)
	}
	slices.Sort(w)
	if got := sortedValues(recs); !slices.Equal(got, w) {
		t.Fatalf("consumed %d records %v, want %d %v", len(got), got, len(w), w)
	}
}

func wantEndTotal(t *testing.T, b *Broker, topic string, partitions int, total int64) {
	t.Helper()
	offs := EndOffsets(t, b, topic)
	if len(offs) != partitions {
		t.Fatalf("%s has %d partitions %v, want %d", topic, len(offs), offs, partitions)
	}
	var sum int64
	for _, o := range offs {
		sum += o
	}
	if sum != total {
		t.Fatalf("end offsets of %s %v sum to %d, want %d", topic, offs, sum, total)
	}
}

// roundTrip creates topic, produces n records and reads them back.
func roundTrip(t *testing.T, b *Broker, topic string, n int) [][]byte {
	t.Helper()
	CreateTopic(t, b, topic, 4)
	vals := values(0, n)
	Produce(t, b, topic, vals...)
	wantValues(t, ConsumeAll(t, b, topic, n, 60*time.Second), vals)
	wantEndTotal(t, b, topic, 4, int64(n))
	return vals
}

// rssKB is the resident set size of process pid in KiB, read from /proc.
func rssKB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

func logRSS(t *testing.T, b *Broker) {
	t.Helper()
	if pid := b.pid(); pid != 0 {
		if kb, err := rssKB(pid); err == nil {
			t.Logf("%s broker RSS: %d MiB", b.Kind(), kb/1024)
		}
	}
}

func TestKfakeRoundTrip(t *testing.T) {
	b := StartKfake(t)
	if b.Kind() != KindKfake || !strings.HasPrefix(b.Addr(), "127.0.0.1:") {
		t.Fatalf("broker %s on %s", b.Kind(), b.Addr())
	}
	roundTrip(t, b, "round_trip", 200)

	// Records with keys and headers come back as sent, in order within a
	// partition.
	recs := []*kgo.Record{
		{Topic: "keyed", Key: []byte("k"), Value: []byte("1"), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}},
		{Topic: "keyed", Key: []byte("k"), Value: []byte("2")},
	}
	ProduceRecords(t, b, recs...)
	got := ConsumeAll(t, b, "keyed", 2, 30*time.Second)
	if string(got[0].Value) != "1" || string(got[1].Value) != "2" || string(got[0].Key) != "k" ||
		len(got[0].Headers) != 1 || string(got[0].Headers[0].Value) != "v" || got[0].Partition != got[1].Partition {
		t.Fatalf("keyed records came back as %+v, %+v", got[0], got[1])
	}
}

func TestKfakeAutoCreatesFourPartitions(t *testing.T) {
	b := StartKfake(t)
	Produce(t, b, "auto_created", values(0, 40)...)
	wantEndTotal(t, b, "auto_created", 4, 40)
}

// commitGroup commits offset for partition 0 of topic in group.
func commitGroup(t *testing.T, b *Broker, group, topic string, offset int64) {
	t.Helper()
	var offs kadm.Offsets
	offs.AddOffset(topic, 0, offset, -1)
	resp, err := kadm.NewClient(b.Client(t)).CommitOffsets(context.Background(), group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("committing offsets of %s: %v", group, err)
	}
}

func committed(t *testing.T, b *Broker, group, topic string) int64 {
	t.Helper()
	resp, err := kadm.NewClient(b.Client(t)).FetchOffsets(context.Background(), group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("fetching offsets of %s: %v", group, err)
	}
	o, ok := resp.Lookup(topic, 0)
	if !ok {
		return -1
	}
	return o.At
}

func TestKfakeRestartKeepsRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		down func(*Broker)
	}{
		{"stop", (*Broker).Stop},
		{"kill", (*Broker).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := StartKfake(t)
			addr := b.Addr()
			vals := roundTrip(t, b, "kept", 100)
			commitGroup(t, b, "g", "kept", 7)

			tc.down(b)
			if err := answersMetadata(context.Background(), addr); err == nil {
				t.Fatal("the broker still answers after going down")
			}
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			if b.Addr() != addr {
				t.Fatalf("restarted on %s, was %s", b.Addr(), addr)
			}
			wantValues(t, ConsumeAll(t, b, "kept", 100, 30*time.Second), vals)
			if got := committed(t, b, "g", "kept"); got != 7 {
				t.Fatalf("committed offset after a restart: %d, want 7", got)
			}
			more := values(100, 10)
			Produce(t, b, "kept", more...)
			wantValues(t, ConsumeAll(t, b, "kept", 110, 30*time.Second), append(vals, more...))
			wantEndTotal(t, b, "kept", 4, 110)
		})
	}
}

func TestStartRunningOrExternalFails(t *testing.T) {
	b := StartKfake(t)
	if err := b.Start(); err == nil || !strings.Contains(err.Error(), "is running") {
		t.Fatalf("Start of a running broker: %v", err)
	}
	ext := &Broker{kind: KindExternal, addr: b.Addr()}
	if err := ext.Start(); err == nil {
		t.Fatal("Start of an external broker succeeded")
	}
	ext.Stop() // no process: nothing to do
	ext.Kill()
	if err := answersMetadata(context.Background(), b.Addr()); err != nil {
		t.Fatalf("stopping the external view stopped the broker: %v", err)
	}
}

func TestKfakebrokerFlags(t *testing.T) {
	bin, err := buildKfake()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, "127.0.0.1 only"},
		{[]string{"-listen", "localhost:0"}, "127.0.0.1 only"},
		{[]string{"-listen", "127.0.0.1"}, "missing port"},
		{[]string{"-listen", "127.0.0.1:x"}, "bad port"},
		{[]string{"-partitions", "0"}, "at least 1"},
		{[]string{"-log-level", "loud"}, "want none"},
		{[]string{"-sync-writes"}, "needs -data-dir"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2", err)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

// TestBrokerFromEnv runs the broker the integration suite would use: kfake by
// default, Apache Kafka with LAKENODE_TEST_BROKER=apache (failing, never
// skipping, when its jars are missing), an external broker with
// LAKENODE_TEST_KAFKA. It logs start-up time and RSS.
func TestBrokerFromEnv(t *testing.T) {
	start := time.Now()
	b := FromEnv(t)
	t.Logf("%s broker on %s ready in %v", b.Kind(), b.Addr(), time.Since(start).Round(time.Millisecond))
	logRSS(t, b)
	topic := fmt.Sprintf("from_env_%d", time.Now().UnixNano())
	vals := roundTrip(t, b, topic, 500)
	Produce(t, b, topic+"_auto", values(0, 8)...)
	wantEndTotal(t, b, topic+"_auto", 4, 8)
	logRSS(t, b)
	if b.Kind() == KindExternal {
		return // not ours to restart
	}
	b.Kill()
	start = time.Now()
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s broker restarted after SIGKILL in %v", b.Kind(), time.Since(start).Round(time.Millisecond))
	wantValues(t, ConsumeAll(t, b, topic, 500, 60*time.Second), vals)
	start = time.Now()
	b.Stop()
	t.Logf("%s broker stopped in %v", b.Kind(), time.Since(start).Round(time.Millisecond))
}

func TestShared(t *testing.T) {
	b := Shared(t)
	if Shared(t) != b {
		t.Fatal("Shared returned two brokers")
	}
	want := os.Getenv("LAKENODE_TEST_BROKER")
	switch {
	case os.Getenv("LAKENODE_TEST_KAFKA") != "":
		want = KindExternal
	case want == "":
		want = KindKfake
	}
	if b.Kind() != want {
		t.Fatalf("shared broker of kind %s, want %s", b.Kind(), want)
	}
	Produce(t, b, "shared", []byte("x"))
	if recs := ConsumeAll(t, b, "shared", 1, 30*time.Second); len(recs) == 0 {
		t.Fatal("nothing consumed from the shared broker")
	}
}

func TestApacheNeedsJars(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name, libs, want string
	}{
		{"unset", "", "run `make kafka-jars`"},
		{"empty dir", empty, "holds no kafka_2.13 jar: run `make kafka-jars`"},
		{"missing relative dir", filepath.Join(".cache", "no-such-kafka"), "holds no kafka_2.13 jar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LAKENODE_KAFKA_LIBS", tc.libs)
			_, err := newApache(t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newApache: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestServerProperties(t *testing.T) {
	_, secured, err := apacheSecured(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	props := serverProperties("127.0.0.1:1001", "127.0.0.1:1002", "/data", "127.0.0.1:1003", secured)
	for _, want := range []string{
		"process.roles=broker,controller",
		"controller.quorum.bootstrap.servers=127.0.0.1:1002",
		"listeners=PLAINTEXT://127.0.0.1:1001,CONTROLLER://127.0.0.1:1002,SASL_SSL://127.0.0.1:1003",
		"advertised.listeners=PLAINTEXT://127.0.0.1:1001,SASL_SSL://127.0.0.1:1003",
		"inter.broker.listener.name=PLAINTEXT",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
		"sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
		"listener.name.sasl_ssl.ssl.keystore.type=PEM",
		"log.dirs=/data",
		"num.partitions=4",
		"auto.create.topics.enable=true",
		"offsets.topic.replication.factor=1",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"group.initial.rebalance.delay.ms=0",
		"group.max.session.timeout.ms=300000",
	} {
		if !slices.Contains(strings.Split(props, "\n"), want) {
			t.Errorf("server.properties lacks %q", want)
		}
	}
}

func TestClusterID(t *testing.T) {
	seen := map[string]bool{}
	// A leading '-' has a chance of 1 in 64 per id; 500 ids catch its
	// return.
	for range 500 {
		id, err := clusterID()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(raw) != 16 || len(id) != 22 || id[0] == '-' || seen[id] {
			t.Fatalf("cluster id %q (%d bytes, %v, seen before: %v)", id, len(raw), err, seen[id])
		}
		seen[id] = true
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var sb strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&sb, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path        string
		n           int
		first, last string
		lines       int
	}{
		{path, 40, "line 61", "line 100", 40},
		{path, 200, "line 1", "line 100", 100},
		{filepath.Join(t.TempDir(), "none"), 40, "", "", 1},
	} {
		lines := strings.Split(logTail(tc.path, tc.n), "\n")
		if len(lines) != tc.lines || lines[0] != tc.first || lines[len(lines)-1] != tc.last {
			t.Errorf("logTail(%d) = %d lines %q..%q", tc.n, len(lines), lines[0], lines[len(lines)-1])
		}
	}
}

func TestConsumeAllTimesOut(t *testing.T) {
	b := StartKfake(t)
	CreateTopic(t, b, "quiet", 2)
	Produce(t, b, "quiet", []byte("only"))
	// The record is readable (a generous deadline: under a loaded make test
	// a fresh client's first fetch has taken more than 500 ms) ...
	ConsumeAll(t, b, "quiet", 1, 30*time.Second)
	// ... and asking for two gives the one there is and the error.
	recs, err := consumeAll(b, "quiet", 2, 3*time.Second)
	if err == nil || !strings.Contains(err.Error(), "consumed 1 of 2") || len(recs) != 1 {
		t.Fatalf("consumeAll: %d records, %v", len(recs), err)
	}
}

// recordingTB records Fatalf instead of stopping the test.
type recordingTB struct {
	testing.TB
	failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestWaitFor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		trueFrom int // cond holds from this call on; 0 never
		fail     string
	}{
		{"at once", 1, ""},
		{"after polls", 4, ""},
		{"never", 0, "waited 200ms for the answer 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			calls := 0
			start := time.Now()
			WaitFor(rec, 200*time.Millisecond, func() bool {
				calls++
				return tc.trueFrom > 0 && calls >= tc.trueFrom
			}, "the answer %d", 42)
			if tc.fail == "" && (rec.failed != "" || calls != tc.trueFrom) {
				t.Fatalf("failed %q after %d calls", rec.failed, calls)
			}
			if tc.fail != "" && (!strings.Contains(rec.failed, tc.fail) || time.Since(start) < 200*time.Millisecond) {
				t.Fatalf("failed %q after %v", rec.failed, time.Since(start))
			}
		})
	}
}

// TestSecuredListener produces and consumes through the broker's TLS and
// SCRAM listener, and checks that a plaintext client is refused there.
func TestSecuredListener(t *testing.T) {
	b := Shared(t)
	s := b.Secured(t)
	if s.Addr == "" || s.Addr == b.Addr() {
		t.Fatalf("secured listener %q beside %q", s.Addr, b.Addr())
	}
	cl := s.Client(t, kgo.DefaultProduceTopic("secured_rt"), kgo.AllowAutoTopicCreation())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("producing through %s: %v", s.Addr, err)
	}
	plain, err := kgo.NewClient(kgo.SeedBrokers(s.Addr), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if err := plain.Ping(pctx); err == nil {
		t.Fatal("a plaintext client was answered on the TLS listener")
	}
}
