package node

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestGetTablesShowsSealedRows: get tables shows, beside a table's rows,
// how many of them are sealed into column blocks, in its table and in
// its JSON.
func TestGetTablesShowsSealedRows(t *testing.T) {
	n := startNode(t)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	t0 := time.Now().Add(-time.Hour)
	rows := make([][]schema.Value, 1000)
	for i := range rows {
		rows[i] = []schema.Value{schema.Str("device-" + strconv.Itoa(i%10)), schema.Timestamp(t0.Add(time.Duration(i) * time.Second)), schema.Int(int64(i))}
	}
	tablestest.LoadSealed(t, n.Store(), "d", "half", cols, rows, tablestest.SealHalf)
	tablestest.Load(t, n.Store(), "d", "rows", cols, rows[:10])

	ctx := context.Background()
	res := n.Execute(ctx, "get tables where dbms = d and format = json", ExecOptions{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var got []struct {
		Table  string `json:"table"`
		Rows   int64  `json:"rows"`
		Sealed int64  `json:"sealed_rows"`
	}
	if err := json.Unmarshal([]byte(res.Text), &got); err != nil {
		t.Fatalf("%v:\n%s", err, res.Text)
	}
	want := map[string][2]int64{"half": {1000, 500}, "rows": {10, 0}}
	if len(got) != len(want) {
		t.Fatalf("get tables lists %d tables, want %d:\n%s", len(got), len(want), res.Text)
	}
	for _, g := range got {
		if w, ok := want[g.Table]; !ok || g.Rows != w[0] || g.Sealed != w[1] {
			t.Errorf("%s: %d rows, %d sealed; want %v", g.Table, g.Rows, g.Sealed, w)
		}
	}
	res = n.Execute(ctx, "get tables where dbms = d", ExecOptions{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, w := range []string{"Sealed", "1000", "500"} {
		if !strings.Contains(res.Text, w) {
			t.Errorf("get tables lacks %q:\n%s", w, res.Text)
		}
	}
}
