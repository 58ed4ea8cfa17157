package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// planShapes build statements of about size bytes (at most size) of one
// shape each: the shapes that made planning quadratic before, and those a
// real query grows by.
var planShapes = []struct {
	name  string
	build func(size int) string
}{
	{"and_chain", func(size int) string {
		return grow("select count(*) from ping_sensor where value >= 0", " and value >= 0", "", size)
	}},
	{"or_chain", func(size int) string {
		return grow("select count(*) from ping_sensor where value = 0", " or value = 1", "", size)
	}},
	{"nested_at_cap", func(size int) string {
		// Sums of abs(abs(...(-value)...)) nested to the depth cap.
		unit := "+" + strings.Repeat("abs(", MaxDepth-4) + "-value" + strings.Repeat(")", MaxDepth-4)
		return grow("select 0", unit, " from ping_sensor limit 1", size)
	}},
	{"select_items", func(size int) string {
		return grow("select value", ", value + 1", " from ping_sensor limit 1", size)
	}},
	{"in_list", func(size int) string {
		return grow("select count(*) from ping_sensor where value in (0", ", 12345", ")", size)
	}},
}

// grow repeats unit between head and tail to make the statement as long as
// it can be within size bytes.
func grow(head, unit, tail string, size int) string {
	n := max((size-len(head)-len(tail))/len(unit), 0)
	return head + strings.Repeat(unit, n) + tail
}

var planSizes = []int{1 << 10, 4 << 10, 16 << 10, MaxStatementBytes}

func planStore(tb testing.TB) *tables.Store {
	tb.Helper()
	s := tablestest.Open(tb)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	tablestest.Load(tb, s, "d", "ping_sensor", cols, [][]schema.Value{{schema.Str("a"), schema.Timestamp(time.Now()), schema.Int(1)}})
	return s
}

// TestPlanLinear guards the planner against passes that walk a subtree
// once per node (quadratic in the nesting depth) without timing anything:
// the nodes the planner's passes visit stay within a constant factor of
// the nodes of the parse tree, for every shape up to the size cap.
func TestPlanLinear(t *testing.T) {
	s := planStore(t)
	for _, sh := range planShapes {
		for _, size := range planSizes {
			q := sh.build(size)
			p, _, err := prepare(context.Background(), s, "d", q, Options{})
			if err != nil {
				t.Fatalf("%s %d: %v", sh.name, size, err)
			}
			stmt, err := parser.Parse(prepass(q).text)
			if err != nil {
				t.Fatal(err)
			}
			nodes := 0
			_ = sqlparser.Walk(func(sqlparser.SQLNode) (bool, error) { nodes++; return true, nil }, stmt)
			if p.visits > 4*nodes {
				t.Errorf("%s, %d bytes: the planner visited %d nodes of a %d-node tree (more than 4 per node)", sh.name, len(q), p.visits, nodes)
			}
			if size == MaxStatementBytes {
				t.Logf("%-13s %6d bytes: %6d nodes, %6d visits", sh.name, len(q), nodes, p.visits)
			}
		}
	}
}

// BenchmarkPlan (`make bench`) parses and plans statements of each shape
// at 1, 4, 16 and 64 KiB (the cap) and reports the time per byte of SQL:
// flat across sizes when planning is linear in the statement's size.
func BenchmarkPlan(b *testing.B) {
	s := planStore(b)
	for _, sh := range planShapes {
		for _, size := range planSizes {
			q := sh.build(size)
			b.Run(fmt.Sprintf("%s/%dKiB", sh.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(q)))
				for b.Loop() {
					if _, _, err := prepare(context.Background(), s, "d", q, Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(q)), "ns/byte")
			})
		}
	}
}
