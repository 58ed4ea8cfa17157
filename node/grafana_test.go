package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lakenode/lakenode/tables/schema"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// grafanaMacro is a macro call as Grafana's PostgreSQL data source finds
// it (Grafana 12, pkg/tsdb/grafana-postgresql-datasource/macros.go): a
// name and its comma-separated arguments up to the first ')'.
var grafanaMacro = regexp.MustCompile(`\$([_a-zA-Z0-9]+)\(([^)]*)\)`)

// expandGrafana expands the macros the dashboard uses as that data source
// does (no TimescaleDB): $__timeFilter(c) to c BETWEEN 'from' AND 'to'
// (RFC 3339, UTC), $__timeGroup(c, i) to floor(extract(epoch from c)/s)*s
// with s the interval in seconds, $__timeGroupAlias adding AS "time".
func expandGrafana(t *testing.T, sql string, from, to time.Time) string {
	return grafanaMacro.ReplaceAllStringFunc(sql, func(m string) string {
		g := grafanaMacro.FindStringSubmatch(m)
		args := strings.Split(g[2], ",")
		for i := range args {
			args[i] = strings.TrimSpace(args[i])
		}
		group := func() string {
			d, err := time.ParseDuration(strings.Trim(args[1], "'"))
			if err != nil {
				t.Fatalf("interval %q: %v", args[1], err)
			}
			s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
			return fmt.Sprintf("floor(extract(epoch from %s)/%s)*%s", args[0], s, s)
		}
		switch g[1] {
		case "__timeFilter":
			return fmt.Sprintf("%s BETWEEN '%s' AND '%s'", args[0], from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
		case "__timeGroup":
			return group()
		case "__timeGroupAlias":
			return group() + ` AS "time"`
		}
		t.Fatalf("the dashboard uses macro %s, which this test does not expand", g[1])
		return ""
	})
}

// TestGrafanaDashboard runs every query of contrib/grafana's dashboard,
// its macros expanded as Grafana does, over the PostgreSQL wire against a
// node holding the demo's table and a consumer, and checks each answers
// with what its panel needs.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "contrib", "grafana", "dashboards", "lakenode.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct {
				Format string
				RawSQL string `json:"rawSql"`
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	n := startNodeWith(t, func(c *Config) { c.PGAddr = "127.0.0.1:0" })
	now := time.Now().UTC().Truncate(time.Second)
	cols := []schema.Column{{Name: "device_name", Type: schema.TypeString}, {Name: "timestamp", Type: schema.TypeTimestamp}, {Name: "value", Type: schema.TypeInt}}
	var rows [][]schema.Value
	for i := range 600 { // ten minutes, a row a second, three devices
		rows = append(rows, []schema.Value{schema.Str("dev-" + strconv.Itoa(i%3)), schema.Timestamp(now.Add(-time.Duration(i) * time.Second)), schema.Int(int64(i))})
	}
	tablestest.Load(t, n.Store(), "litsanleandro", "ping_sensor", cols, rows)

	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://grafana@"+n.PGAddr()+"/litsanleandro?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	from, to := now.Add(-time.Hour), now.Add(time.Second)
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			sql := expandGrafana(t, tg.RawSQL, from, to)
			rs, err := c.Query(ctx, sql)
			if err != nil {
				t.Fatalf("panel %q: %v\n%s", p.Title, err, sql)
			}
			got, err := pgx.CollectRows(rs, pgx.RowToMap)
			if err != nil {
				t.Fatalf("panel %q: %v\n%s", p.Title, err, sql)
			}
			fields := rs.FieldDescriptions()
			switch tg.Format {
			case "time_series":
				// Grafana wants a first column named time and rows in time
				// order; every panel here has rows in the range.
				if fields[0].Name != "time" || len(got) == 0 {
					t.Fatalf("panel %q: columns %v, %d rows\n%s", p.Title, fields, len(got), sql)
				}
				var last float64
				for _, r := range got {
					tv, ok := r["time"].(float64)
					if !ok || tv < last {
						t.Fatalf("panel %q: time %v (%T) out of order", p.Title, r["time"], r["time"])
					}
					last = tv
				}
			case "table":
				if len(fields) < 3 || fields[0].Name != "topic" {
					t.Fatalf("panel %q: columns %v", p.Title, fields)
				}
			default:
				t.Fatalf("panel %q: format %q", p.Title, tg.Format)
			}
		}
	}
	if queries != 4 {
		t.Fatalf("%d queries in the dashboard, want 4", queries)
	}
}
