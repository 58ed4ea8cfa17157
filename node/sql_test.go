package node

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// slowQuery loads rows into d.t of node n and returns a query whose WHERE
// costs a 6,000-value IN list per row (no row matches): seconds of work.
func slowQuery(t *testing.T, n *Node, rows int) string {
	t.Helper()
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	vals := make([][]schema.Value, rows)
	t0 := time.Now().Add(-time.Hour)
	for i := range vals {
		vals[i] = []schema.Value{schema.Str("device-" + strconv.Itoa(i%100)), schema.Timestamp(t0.Add(time.Duration(i) * time.Millisecond)), schema.Int(int64(i))}
	}
	tablestest.Load(t, n.Store(), "d", "t", cols, vals)
	var in strings.Builder
	for i := range 6000 {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString(strconv.Itoa(-1 - i))
	}
	return "select count(*) from t where value in (" + in.String() + ")"
}

func startNode(t *testing.T) *Node {
	t.Helper()
	return startNodeWith(t, func(*Config) {})
}

// startNodeWith starts a node on a temporary data dir, its configuration
// changed by set first.
func startNodeWith(t *testing.T, set func(*Config)) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	set(&cfg)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

// TestMaxTimeStopsQuery: a query of several seconds with max_time = 1
// seconds stops about a second in, with EdgeLake's error.
func TestMaxTimeStopsQuery(t *testing.T) {
	n := startNode(t)
	q := slowQuery(t, n, 300_000)
	t0 := time.Now()
	res := n.Execute(context.Background(), `sql d max_time = 1 seconds "`+q+`"`, ExecOptions{})
	took := time.Since(t0)
	if res.Err == nil || res.Err.Error() != "query stopped: it ran longer than max_time = 1s" {
		t.Fatalf("error %v, want the max_time error (answer %.100s)", res.Err, res.Text)
	}
	if took > 8*time.Second { // unbounded it runs far longer; room for a loaded machine
		t.Fatalf("stopped after %v, want about 1 s", took)
	}
	t.Logf("stopped after %v", took)
}

// TestSQLLimits: the statement caps reach the user as SQL errors.
func TestSQLLimits(t *testing.T) {
	n := startNode(t)
	slowQuery(t, n, 10)
	for _, c := range []struct{ line, want string }{
		{`sql d "select ` + strings.Repeat("-", 300_000) + `1 from t"`, "the sql command is 300023 bytes long"},
		{`sql d "select ` + strings.Repeat("-", lsql.MaxDepth) + `1 from t"`, "SQL error: an expression nests deeper than 128 levels"},
		{`sql d "select ` + strings.Repeat("(", lsql.MaxDepth+1) + `1` + strings.Repeat(")", lsql.MaxDepth+1) + ` from t"`, "SQL error: parentheses nest deeper than 128 levels"},
	} {
		t0 := time.Now()
		res := n.Execute(context.Background(), c.line, ExecOptions{})
		if res.Err == nil || !strings.Contains(res.Err.Error(), c.want) {
			t.Errorf("%.40s...: error %v, want %q", c.line, res.Err, c.want)
		}
		if took := time.Since(t0); took > 5*time.Second {
			t.Errorf("%.40s...: took %v", c.line, took)
		}
	}
}
