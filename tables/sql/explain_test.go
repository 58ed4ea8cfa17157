package sql_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lsql "github.com/lakenode/lakenode/tables/sql"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt golden files with what the tests get")

// TestExplain compares the plans of many query shapes with
// testdata/explain.txt (go test -run TestExplain -rewrite to update it).
func TestExplain(t *testing.T) {
	s := pingStore(t)
	queries := []string{
		"select * from ping_sensor",
		"select device_name, value from ping_sensor where timestamp >= '2026-11-25' and timestamp < '2026-11-25 06:00:00'",
		"select count(*), avg(value), min(value), max(value) from ping_sensor where timestamp > now() - 1 day",
		"select count(*) from ping_sensor where timestamp > now() - 1 day and value > 10",
		"select device_name, count(*), avg(value) from ping_sensor group by device_name order by 3 desc, 1 limit 2",
		"select device_name, count(distinct value) from ping_sensor group by device_name having count(*) > 3",
		"select value from ping_sensor limit 5 offset 2",
		"select value from ping_sensor order by value desc limit 3",
		"select distinct device_name from ping_sensor",
		"select count(*) from ping_sensor",
	}
	var b strings.Builder
	for _, q := range queries {
		p, err := lsql.Prepare(context.Background(), s, "lsl_demo", q, lsql.Options{Now: now})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b.WriteString("> " + q + "\n")
		for _, l := range p.Explain() {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "explain.txt")
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("plans differ from %s (-rewrite to update):\n%s", golden, b.String())
	}
}
