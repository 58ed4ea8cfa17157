package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestSecuredKafka runs a node against the broker's TLS and SCRAM-SHA-512
// listener (a SASL_SSL listener of the Apache Kafka broker, or a kfake
// broker with TLS and SASL): it consumes exactly once through it, exports
// through it (plain and since = last), reads the password from
// $LAKENODE_KAFKA_PASSWORD, shows a wrong password, an untrusted
// certificate and a plaintext client as clear errors while it keeps
// running, and never shows the password.
func TestSecuredKafka(t *testing.T) {
	s := kafkatest.Shared(t).Secured(t)
	sb := s.Broker
	host, port, _ := net.SplitHostPort(s.Addr)
	kafkatest.CreateTopic(t, sb, "sec_in", 4)
	kafkatest.CreateTopic(t, sb, "sec_out", 2)
	kafkatest.CreateTopic(t, sb, "sec_since", 2)

	dataDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dataDir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "secrets", "kafka-ca.pem"), s.Certs.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAKENODE_KAFKA_PASSWORD", s.Password) // the node inherits it
	n := startNode(t, "secnode", dataDir, "")

	auth := fmt.Sprintf("tls_ca = kafka-ca.pem and sasl = scram-sha-512 and user = %s and password = $LAKENODE_KAFKA_PASSWORD", s.User)
	literal := fmt.Sprintf("tls = true and tls_ca = kafka-ca.pem and sasl = scram-sha-512 and user = %s and password = %s", s.User, s.Password)
	n.mustExec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and %s and topic = (name = sec_in and dbms = sec and table = readings and column.v.int = "bring [v]")`, host, port, auth))
	const count = 400
	vals := make([][]byte, count)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, `{"v": %d}`, i)
	}
	kafkatest.Produce(t, sb, "sec_in", vals...)
	waitFor(t, 90*time.Second, func() bool { return n.rowCount("sec", "readings") == count }, "%d rows through the secured listener", count)
	if body := n.mustExec(`sql sec format = json:output and stat = false "select count(distinct v) as d from readings"`); !strings.Contains(body, fmt.Sprintf(`"d": %d`, count)) {
		t.Fatalf("distinct values: %s", body)
	}

	// Exports through the secured listener: the password written in the
	// command, then read from the node's environment.
	r := n.exec(fmt.Sprintf(`sql sec format = json:output and stat = false and dest = kafka@%s and topic = sec_out and %s "select v from readings"`, s.Addr, literal))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`"Rows" : %d`, count)) {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	if got := len(kafkatest.ConsumeAll(t, sb, "sec_out", count, 30*time.Second)); got != count {
		t.Fatalf("sec_out holds %d records, want %d", got, count)
	}
	r = n.exec(fmt.Sprintf(`sql sec format = json:output and stat = false and dest = kafka@%s and topic = sec_since and since = last and %s "select v from readings"`, s.Addr, auth))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`"Rows" : %d`, count)) {
		t.Fatalf("since = last export: %d %s", r.Status, r.Body)
	}
	if got := len(kafkatest.ConsumeAll(t, sb, "sec_since", count, 30*time.Second)); got != count {
		t.Fatalf("sec_since holds %d records, want %d", got, count)
	}

	// An unset $LAKENODE_ variable and a key file outside --secrets-dir are
	// refused, naming what is wrong.
	r = n.exec(fmt.Sprintf(`sql sec format = json:output and dest = kafka@%s and topic = sec_out and tls_ca = kafka-ca.pem and sasl = plain and user = u and password = $LAKENODE_NOT_SET "select v from readings"`, s.Addr))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "LAKENODE_NOT_SET is not set") {
		t.Fatalf("unset variable: %d %s", r.Status, r.Body)
	}
	r = n.exec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and tls_ca = ../secrets/../../kafka-ca.pem and topic = (name = esc and dbms = sec and table = e and column.v.int = "bring [v]")`, host, port))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, filepath.Join(dataDir, "secrets")) {
		t.Fatalf("key file outside --secrets-dir: %d %s", r.Status, r.Body)
	}

	// Misconfigured consumers: each retries with backoff and says why.
	wrong := "wrong-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	bad := []struct{ topic, keys, want string }{
		{"bad_pw", fmt.Sprintf("tls_ca = kafka-ca.pem and sasl = scram-sha-512 and user = %s and password = %s", s.User, wrong), "check user and password"},
		{"bad_ca", fmt.Sprintf("tls = true and sasl = scram-sha-512 and user = %s and password = $LAKENODE_KAFKA_PASSWORD", s.User), "tls_ca = FILE"},
		{"bad_plain", fmt.Sprintf("sasl = scram-sha-512 and user = %s and password = $LAKENODE_KAFKA_PASSWORD", s.User), "tls = true"},
	}
	for _, c := range bad {
		n.mustExec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and %s and topic = (name = %s and dbms = sec and table = %s and column.v.int = "bring [v]")`, host, port, c.keys, c.topic, c.topic))
	}
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last get processes and get msg client:\n%s", last)
		}
	}()
	for _, c := range bad {
		waitFor(t, 60*time.Second, func() bool {
			p, m := n.exec("get processes").Body, n.exec("get msg client").Body
			last = p + m
			return strings.Contains(p, c.want) && strings.Contains(m, c.want)
		}, "get processes and get msg client to say %q for %s", c.want, c.topic)
	}
	// The node keeps consuming through the good consumer meanwhile.
	kafkatest.Produce(t, sb, "sec_in", []byte(`{"v": -1}`))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("sec", "readings") == count+1 }, "one more row")

	// The password is never shown: the scheduler's tasks, errors with a
	// caret, the error log, the monitoring commands, the log file.
	n.mustExec("run scheduler 1")
	n.mustExec(fmt.Sprintf(`schedule time = 1 hour and name = "sec_task" task sql sec format = json:output and dest = kafka@%s and topic = sec_out and %s "select v from readings"`, s.Addr, literal))
	r = n.exec(fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and %s and bogus = 1 and topic = (name = x and dbms = sec and table = x and column.v.int = "bring [v]")`, host, port, literal))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "password = ***") {
		t.Fatalf("error with a caret: %d %s", r.Status, r.Body)
	}
	shown := r.Body
	for _, cmd := range []string{"get scheduler", "get scheduler where format = json", "get error log", "get processes", "get msg client where detailed = true", "get msg client where format = json"} {
		shown += n.mustExec(cmd)
	}
	if !strings.Contains(n.mustExec("get scheduler"), "password = ***") {
		t.Errorf("get scheduler does not show the task's password as ***")
	}
	n.stop()
	logText, err := os.ReadFile(n.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	shown += string(logText)
	for _, secret := range []string{s.Password, wrong} {
		if strings.Contains(shown, secret) {
			t.Fatalf("a password is shown:\n%s", shown)
		}
	}
}
