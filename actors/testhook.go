package actors

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lakenode/lakenode/kafka"
)

// TestApplyDelayEnv names a test-only hook: when the variable is set (as
// `DBMS.TABLE=DURATION[,DBMS.TABLE=DURATION...]`), each commit of a named
// table waits that long before it is applied, so that the fault suite can
// slow one table down and watch memory stay bounded. It is read once, at
// start-up, and only when set; production never sets it.
const TestApplyDelayEnv = "LAKENODE_TEST_APPLY_DELAY"

// testApplyDelays is the parsed hook: "dbms.table" -> delay; nil when the
// variable is not set.
var testApplyDelays = func() map[string]time.Duration {
	v, ok := os.LookupEnv(TestApplyDelayEnv)
	if !ok {
		return nil
	}
	m, err := parseApplyDelays(v)
	if err != nil {
		// A test set it wrongly: fail loudly rather than run unslowed.
		panic(err)
	}
	return m
}()

// parseApplyDelays parses the hook's value.
func parseApplyDelays(v string) (map[string]time.Duration, error) {
	m := make(map[string]time.Duration)
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, dur, ok := strings.Cut(item, "=")
		if !ok || !strings.Contains(name, ".") {
			return nil, fmt.Errorf("%s: %q is not DBMS.TABLE=DURATION", TestApplyDelayEnv, item)
		}
		d, err := time.ParseDuration(strings.TrimSpace(dur))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s: %q: the delay is not a duration", TestApplyDelayEnv, item)
		}
		m[strings.ToLower(strings.TrimSpace(name))] = d
	}
	return m, nil
}

// testApplyDelay is the hook's delay for a table, 0 when none.
func testApplyDelay(dbms, table string) time.Duration {
	if testApplyDelays == nil {
		return 0
	}
	return testApplyDelays[dbms+"."+table]
}

// TestHooks inject faults into a running tree, for tests in this package
// and actors/actortest; production leaves them nil. Each is called from
// the actor it names, so a panic in it is that actor's failure.
type TestHooks struct {
	// Apply is called by a table writer before each commit, with the
	// table's dbms.table.
	Apply func(table string)
	// Accept is called by a table writer for each batch it receives.
	Accept func(table string)
	// Decode is called by a partition actor before it maps a delivery.
	Decode func(topic string, partition int32)
	// Export is called by an export's worker before it sends.
	Export func(id int)
	// DLQ, when set, replaces the dead-letter producer's send.
	DLQ func(ctx context.Context, msgs []kafka.Message) error
}

func (h *TestHooks) beforeApply(table string) {
	if h != nil && h.Apply != nil {
		h.Apply(table)
	}
}

func (h *TestHooks) beforeAccept(table string) {
	if h != nil && h.Accept != nil {
		h.Accept(table)
	}
}

func (h *TestHooks) beforeDecode(tp kafka.TopicPartition) {
	if h != nil && h.Decode != nil {
		h.Decode(tp.Topic, tp.Partition)
	}
}

func (h *TestHooks) beforeExport(id int) {
	if h != nil && h.Export != nil {
		h.Export(id)
	}
}
