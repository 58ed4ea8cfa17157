package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestSeedQueryOverREST ingests with the seed's consumer and asks the
// seed's query (stray comma included) through EdgeLake's REST port.
func TestSeedQueryOverREST(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "sql_seed"
	kafkatest.CreateTopic(t, b, topic, 2)
	now := time.Now()
	var vals [][]byte
	for i := range 50 {
		vals = append(vals, pingMessage(i, now.Add(-time.Duration(i)*time.Hour)))
	}
	kafkatest.Produce(t, b, topic, vals...)
	// The seed's consumer plus the device name, which the seed's query reads.
	consumer := strings.Replace(seedConsumer(b.Addr(), topic, "earliest"), `column.value.int = "bring [value]"`,
		`column.value.int = "bring [value]" and column.device_name.str = "bring [device_name]"`, 1)
	n := startNode(t, "sql", t.TempDir(), consumer)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("lsl_demo", "ping_sensor") == 50 }, "50 rows")

	r := n.exec(`sql lsl_demo format = json:output and stat = false "select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10"`)
	if r.Status != http.StatusOK || len(r.Notices) != 1 || !strings.Contains(r.Notices[0], "comma before FROM") {
		t.Fatalf("seed query: %d %v\n%s", r.Status, r.Notices, r.Body)
	}
	lines := strings.Split(strings.TrimSpace(r.Body), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d rows:\n%s", len(lines), r.Body)
	}
	for _, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil || len(row) != 3 || !strings.HasPrefix(l, `{"device_name": "device-`) {
			t.Fatalf("row %q: %v", l, err)
		}
	}
	r = n.exec(`sql lsl_demo "select count(*) from ping_sensor where timestamp > now() - 1 day"`)
	if r.Status != http.StatusOK || r.Type != "application/json" || !strings.Contains(r.Body, `{"Query": [{"count(*)": 24}]`) || !strings.Contains(r.Body, `"Rows Scanned": 24`) {
		t.Fatalf("count: %d %s\n%s", r.Status, r.Type, r.Body)
	}
	r = n.exec(`sql lsl_demo "select valu from ping_sensor"`)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "did you mean 'value'") || !strings.Contains(r.Body, "^") {
		t.Fatalf("unknown column: %d\n%s", r.Status, r.Body)
	}
	r = n.exec(`sql lsl_demo format = table and stat = false "select device_name, count(*) from ping_sensor group by device_name order by 2 desc, 1 limit 2"`)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "device_name count(*) \n-----------|--------|\n") {
		t.Fatalf("table: %d\n%s", r.Status, r.Body)
	}
	// Retention deletes what is older than a day; drop removes the table.
	r = n.exec(`set retention where dbms = lsl_demo and table = ping_sensor and keep = 1 day`)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "26 older rows deleted") {
		t.Fatalf("retention: %d %s", r.Status, r.Body)
	}
	if got := n.rowCount("lsl_demo", "ping_sensor"); got != 24 {
		t.Fatalf("%d rows after retention, want 24", got)
	}
	if body := n.mustExec("get tables where dbms = lsl_demo"); !strings.Contains(body, "24h0m0s") {
		t.Errorf("get tables does not show the retention:\n%s", body)
	}
	if r := n.exec("drop table ping_sensor where dbms = lsl_demo"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "exit kafka") {
		t.Fatalf("drop while consuming: %d %s", r.Status, r.Body)
	}
	n.mustExec("exit kafka")
	n.mustExec("drop table ping_sensor where dbms = lsl_demo")
	if body := n.mustExec("get rows count where format = json"); strings.Contains(body, "ping_sensor") {
		t.Fatalf("table still listed after drop: %s", body)
	}
	n.stop()
}
