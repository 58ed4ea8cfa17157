package clustertest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/cluster/clustertest"
	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables/schema"
)

// TestRunClientMaxTime: run client () with max_time = 1 seconds over two
// nodes, each with seconds of work (a 6,000-value IN list per row), stops
// about a second in and says why.
func TestRunClientMaxTime(t *testing.T) {
	if clustertest.Isolated(t) {
		return
	}
	c := clustertest.Start(t, 2)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	rows := make([][]schema.Value, 400_000)
	t0 := time.Now().Add(-time.Hour)
	for i := range rows {
		rows[i] = []schema.Value{schema.Str("device-" + strconv.Itoa(i%100)), schema.Timestamp(t0.Add(time.Duration(i) * time.Millisecond)), schema.Int(int64(i))}
	}
	c.Load(t, "d", "t", cols, rows)
	in := make([]string, 6000)
	for i := range in {
		in[i] = strconv.Itoa(-1 - i)
	}
	line := `run client () sql d max_time = 1 seconds "select count(*) from t where value in (` + strings.Join(in, ", ") + `)"`
	start := time.Now()
	res := c.Node.Execute(context.Background(), line, node.ExecOptions{})
	took := time.Since(start)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "ran longer than 1s") {
		t.Fatalf("error %v, want the max_time error (answer %.100s)", res.Err, res.Text)
	}
	// Unbounded, the query runs for tens of seconds (35 s measured on a
	// busy 2-core machine); stopping within 10 s shows max_time stopped it,
	// with room for a loaded CI machine.
	if took > 10*time.Second {
		t.Fatalf("stopped after %v, want about 1 s", took)
	}
	t.Logf("stopped after %v: %v", took, res.Err)
}
