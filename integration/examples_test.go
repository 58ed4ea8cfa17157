package integration

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node/command"
)

// readmeSkipped names the README code blocks (by their first line) that the
// examples test does not run, and why. Every entry must match a block.
var readmeSkipped = map[string]string{
	"make demo    # builds, starts a node with an embedded Kafka-protocol broker and plays the":                                                        "make targets: make demo is what this test starts (lakenode demo), make test runs this test",
	"lakenode [--data-dir DIR] [--files-dir DIR] [--secrets-dir DIR] [--name NAME] [--http HOST:PORT] [--listen HOST:PORT]":                            "the command-line synopsis, with placeholders, not an example",
	`curl -H "command: get processes" http://127.0.0.1:32049/`:                                                                                         "curl to the default REST port; the test's demo listens on a free port, and every other example goes through that REST port the same way",
	"get processes                     EdgeLake's services, plus one row per consumer and its state":                                                   "a reference list (a usage and its description on each line); help's examples run each of these commands",
	"lakenode [--auth-token-file FILE] [--tls-cert FILE --tls-key FILE [--client-ca FILE]] [--metrics-open] ...":                                       "the authentication options' synopsis, with placeholders, not an example",
	"umask 077; head -c 32 /dev/urandom | base64 > token":                                                                                              "a two-host cluster on LAN addresses, which tests never reach; TestAuthCluster runs the same set-up on loopback",
	"LAKENODE_KAFKA_PASSWORD=... lakenode --serve -f start.al":                                                                                         "a shell line starting a node on a script, with a placeholder password; the next block is the script",
	"data dir ./lakenode-data is damaged: marker.manifest.*: missing: no file names the current MANIFEST (found MANIFEST-000001, 3 .sst file(s)); ...": "an error message a node prints, not a command",
	"lakenode check [--data-dir DIR]      # a stopped node's dir, read only: exit 0 sound, 1 damaged":                                                  "the check command's synopsis, with a placeholder; TestCheck runs it",
	"make faults    # every fault case at full size, on kfake and then on Apache Kafka":                                                                "make targets of the fault suite and the soak, which run for minutes; make test runs the fault suite's short form",
	"FAULT kill             broker=kfake  messages=51200 rows=51200 errors=0 max_lag=1400 max_rss=76MiB recovery=223ms":                                "a line the fault suite prints, not a command",
	"<run kafka consumer where ip = kafka.example.com and port = 9094 and reset = earliest and":                                                        "a consumer and an export on a remote SASL_SSL broker; TestSecuredKafka runs the same keys against the suite's SASL_SSL listener",
	"reset offsets where topic = TOPIC [and group = NAME] and to = earliest|latest|OFFSET":                                                             "the reset offsets synopsis, with placeholders; help's example runs the command",
	"psql -h 127.0.0.1 -p 32050 -d lsl_demo -c 'select device_name, count(*) from ping_sensor group by device_name'":                                   "psql to the default PostgreSQL port; TestPostgresEndpoint runs psql against a node's endpoint",
	"QUERY PLAN": "the answer of the explain example above it, not a command",
	"exit kafka": "operator sequences with an elided consumer (topic = (...)); TestTopicRecreated runs both on kfake and Apache Kafka",
}

// helpSkipped names the help examples (by command) that the test does not
// run, and why.
var helpSkipped = map[string]string{
	"exit":         "leaves the shell; the examples run on the REST port, where there is no shell to leave",
	"cancel query": "names a running query's id, which no example has; TestQueriesCancelOnEveryNode runs it",
}

// helpLast are help examples that stop or delete what other examples use:
// they run last, in this order.
var helpLast = []string{"exit kafka", "reset offsets", "drop table"}

// The consumer examples subscribe to ping_data, to which the demo's own
// consumer is subscribed already (a topic is consumed once per node): each
// runs after help's `exit kafka` example has stopped the consumers.
const consumerExample = "run kafka consumer"

// example is one runnable example.
type example struct {
	where string // README line or help entry
	text  string
}

// TestExamplesRunAsPrinted runs every example of the README's code blocks
// and of `help` against `lakenode demo`, with only the broker address
// 127.0.0.1:9092 replaced by the demo's, and requires each to succeed.
func TestExamplesRunAsPrinted(t *testing.T) {
	broker, httpAddr := freeAddr(t), freeAddr(t)
	_, port, _ := net.SplitHostPort(broker)
	subst := strings.NewReplacer("127.0.0.1:9092", broker, "port = 9092", "port = "+port)

	readme, cli := readmeExamples(t)
	var first, consumers []example
	last := make([]example, len(helpLast))
	exitKafka := ""
	add := func(ex example) {
		if strings.HasPrefix(command.StripBlock(ex.text), consumerExample) {
			consumers = append(consumers, ex)
		} else {
			first = append(first, ex)
		}
	}
	for _, c := range command.Commands() {
		if why, ok := helpSkipped[c.Name]; ok {
			t.Logf("help %s: skipped: %s", c.Name, why)
			continue
		}
		ex := example{where: "help " + c.Name, text: c.Example}
		if c.Name == "exit kafka" {
			exitKafka = c.Example
		}
		if i := slices.Index(helpLast, c.Name); i >= 0 {
			last[i] = ex
			continue
		}
		add(ex)
	}
	for _, ex := range readme {
		add(ex)
	}
	for name := range helpSkipped {
		if !helpHas(name) {
			t.Errorf("helpSkipped names %q, which help does not have", name)
		}
	}
	for _, l := range helpLast {
		if !helpHas(l) {
			t.Errorf("helpLast names %q, which help does not have", l)
		}
	}

	// The demo reads commands from stdin when it is not a terminal: an open
	// pipe keeps it running while the examples go to its REST port.
	cmd := exec.Command(binary(t), "demo", "--kafka-embedded", broker, "--http", httpAddr, "--pg", "127.0.0.1:0", "--data-dir", t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting lakenode demo: %v", err)
	}
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	// The demo prints its suggestions once its seed story has run.
	waitFor(t, 40*time.Second, func() bool { return strings.Contains(stderr.String(), "try: ") }, "the demo to start; output:\n%s", stderr.String())
	p := &nodeProc{t: t, http: httpAddr, name: "demo"}

	run := func(ex example) {
		text := subst.Replace(ex.text)
		r := p.exec(text)
		if r.Status != http.StatusOK {
			t.Errorf("%s: %q: status %d: %s", ex.where, text, r.Status, r.Body)
		}
	}
	t.Logf("running %d examples, %d consumer examples, %d last, %d command lines", len(first), len(consumers), len(last), len(cli))
	for _, ex := range first {
		run(ex)
	}
	for _, ex := range consumers {
		run(example{where: "help exit kafka, before " + ex.where, text: exitKafka})
		run(ex)
	}
	for _, ex := range last {
		run(ex)
	}
	// The demo leaves at the end of its stdin, having run no command of it.
	_ = stdin.Close()
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("lakenode demo: %v", waitErr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("lakenode demo did not leave at the end of its stdin\n%s", stderr.String())
	}
	// Command lines, once the demo has freed the broker address: run as
	// printed (a node whose data dir is the working directory's
	// ./lakenode-data), stdin empty.
	for _, ex := range cli {
		args := strings.Fields(subst.Replace(ex.text))
		c := exec.Command(binary(t), args[1:]...)
		c.Dir = t.TempDir()
		out, err := c.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %q: %v\n%s", ex.where, strings.Join(args, " "), err, out)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", stderr.String())
	}
}

func helpHas(name string) bool {
	for _, c := range command.Commands() {
		if c.Name == name {
			return true
		}
	}
	return false
}

// readmeExamples returns the README's node commands (each code block read
// as a script) and its lakenode command lines, leaving out readmeSkipped.
func readmeExamples(t *testing.T) (cmds, cli []example) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatalf("reading the README: %v", err)
	}
	defer f.Close()
	var (
		blocks  [][]string
		starts  []int
		inBlock bool
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if !inBlock {
				blocks, starts = append(blocks, nil), append(starts, n+1)
			}
			inBlock = !inBlock
			continue
		}
		if inBlock {
			blocks[len(blocks)-1] = append(blocks[len(blocks)-1], line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	matched := map[string]bool{}
	for i, b := range blocks {
		if len(b) == 0 {
			continue
		}
		if why, ok := readmeSkipped[b[0]]; ok {
			matched[b[0]] = true
			t.Logf("README line %d: skipped: %s", starts[i], why)
			continue
		}
		script, err := command.SplitScript(strings.NewReader(strings.Join(b, "\n")))
		if err != nil {
			t.Fatalf("README line %d: %v", starts[i], err)
		}
		for _, c := range script {
			ex := example{where: "README line " + strconv.Itoa(starts[i]+c.Line-1), text: c.Text}
			if strings.HasPrefix(c.Text, "lakenode ") {
				cli = append(cli, ex)
			} else {
				cmds = append(cmds, ex)
			}
		}
	}
	for first := range readmeSkipped {
		if !matched[first] {
			t.Errorf("readmeSkipped names a block starting %q, which the README does not have", first)
		}
	}
	if len(cmds) == 0 {
		t.Fatal("no examples found in the README")
	}
	return cmds, cli
}

// syncBuffer is an output buffer written by a process and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
