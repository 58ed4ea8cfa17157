package integration

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestDropTableThenConsumeAgain: after `drop table`, a new consumer with a
// new group and reset = earliest re-creates the table from the start of
// the topic, exactly once, with its rejected messages again in
// lakenode.kafka_errors.
func TestDropTableThenConsumeAgain(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "drop_again_" + t.Name()
	kafkatest.CreateTopic(t, b, topic, 2)
	now := time.Now()
	var vals [][]byte
	const good = 300
	for i := range good {
		vals = append(vals, pingMessage(i, now))
	}
	vals = append(vals, []byte(`not json`))
	kafkatest.Produce(t, b, topic, vals...)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := func(group string) string {
		return fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = %s and topic = (name = %s and dbms = dropdb and table = t and column.timestamp.timestamp = "bring [timestamp]" and column.value.int = "bring [value]")`, host, port, group, topic)
	}
	errCount := func(n *nodeProc) string {
		return n.mustExec(fmt.Sprintf(`sql lakenode format = json:output and stat = false "select count(*) as c from kafka_errors where topic = '%s'"`, topic))
	}
	n := startNode(t, "drop", t.TempDir(), "")
	n.mustExec(consumer("g1"))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("dropdb", "t") == good }, "%d rows", good)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(errCount(n), `"c": 1`) }, "the rejected message")
	n.mustExec("exit kafka")
	n.mustExec("drop table t where dbms = dropdb")
	if got := errCount(n); !strings.Contains(got, `"c": 0`) {
		t.Fatalf("the dropped table's rejected messages are still kept: %s", got)
	}
	n.mustExec(consumer("g2"))
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("dropdb", "t") == good }, "%d rows again", good)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(errCount(n), `"c": 1`) }, "the rejected message again")
	// Nothing more arrives: exactly once.
	n.mustExec("flush buffers")
	if c := n.rowCount("dropdb", "t"); c != good {
		t.Fatalf("rows after consuming again: %d, want %d", c, good)
	}
	n.stop()
}
