package node

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lakenode/lakenode/tables"
)

// explain answers with the plan and scans nothing: through sql, run
// client () (with the nodes asked) and the PostgreSQL wire.
func TestExplain(t *testing.T) {
	n := startNodeWith(t, func(c *Config) { c.PGAddr = "127.0.0.1:0" })
	loadMinuteRows(t, n)
	var scanned atomic.Int64
	ctx := tables.WithScanHook(context.Background(), func(n int) error { scanned.Add(int64(n)); return nil })
	res := n.Execute(ctx, `sql d format = table "explain select count(*), max(value) from t where timestamp >= '2026-11-25 00:05:00' and value > 3"`, ExecOptions{})
	if res.Err != nil {
		t.Fatal(res.ErrorText())
	}
	for _, want := range []string{"QUERY PLAN", "Scan d.t (table id", "key range: [", "time bounds: timestamp >= '2026-11-25 00:05:00.000000'",
		"columns decoded: timestamp, value", "filter: evaluated on each row", "keeping per group count(*), max", "Merge: combine the groups"} {
		if !strings.Contains(res.Text, want) {
			t.Fatalf("explain lacks %q:\n%s", want, res.Text)
		}
	}
	res = n.Execute(ctx, `run client () sql d format = json "EXPLAIN select value from t limit 3"`, ExecOptions{})
	if res.Err != nil || !strings.Contains(res.Text, `"QUERY PLAN"`) || !strings.Contains(res.Text, "Nodes asked: "+n.cfg.Name+" (this node, which merges)") ||
		!strings.Contains(res.Text, "the first 3 rows in time order; the scan stops there") {
		t.Fatalf("run client () explain: %v\n%s", res.Err, res.Text)
	}
	res = n.Execute(ctx, `sql d "explain select nosuch from t"`, ExecOptions{})
	if res.Err == nil || !strings.Contains(res.ErrorText(), "nosuch") {
		t.Fatalf("explain of a bad query: %v %q", res.Err, res.Text)
	}
	if s := scanned.Load(); s != 0 {
		t.Fatalf("explain scanned %d rows", s)
	}

	// Over the wire: EXPLAIN in both protocols, one text column.
	c, err := pgx.Connect(context.Background(), "postgres://tester@"+n.PGAddr()+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		rs, err := c.Query(context.Background(), `EXPLAIN select "value" from t where timestamp < '2026-11-25 00:10:00'`, mode)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rs, pgx.RowTo[string])
		if err != nil || len(lines) < 5 || !strings.HasPrefix(lines[0], "Scan d.t") || rs.FieldDescriptions()[0].Name != "QUERY PLAN" {
			t.Fatalf("wire explain (%v): %v %q", mode, err, lines)
		}
	}
	if s := scanned.Load(); s != 0 {
		t.Fatalf("explain scanned %d rows", s)
	}
}
