package pgwire

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The texts Grafana's PostgreSQL data source sends, as its source writes
// them (Grafana 12: postgresMetaQuery.ts for the pickers, macros.go for
// $__timeFilter and $__timeGroupAlias).
const grafanaSchemaConstraint = `
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )`

var grafanaTables = `SELECT
    CASE WHEN ` + grafanaSchemaConstraint + `
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN ` + grafanaSchemaConstraint + ` THEN 0 ELSE 1 END, 1`

var grafanaColumns = `SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('ping_sensor'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('ping_sensor'))[1]
          AND quote_ident(table_name) = (parse_ident('ping_sensor'))[2]
        ELSE quote_ident(table_name) = 'ping_sensor'
          AND ` + grafanaSchemaConstraint + `
      END`

func TestGrafana(t *testing.T) {
	addr := startServer(t, Config{})
	c := connect(t, addr, "")
	ctx := context.Background()
	all := func(q string) string {
		t.Helper()
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatalf("%.60s...: %v", q, err)
		}
		var out []string
		for rows.Next() {
			vals, _ := rows.Values()
			var f []string
			for _, v := range vals {
				switch x := v.(type) {
				case time.Time:
					f = append(f, x.UTC().Format(time.RFC3339))
				default:
					f = append(f, fmt.Sprint(x))
				}
			}
			out = append(out, strings.Join(f, " | "))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%.60s...: %v", q, err)
		}
		return strings.Join(out, "\n")
	}
	for _, tc := range []struct{ name, q, want string }{
		{"version", `SELECT current_setting('server_version_num')::int/100 as version`, "1600"},
		{"timescaledb", `SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`, ""},
		{"schemas", `SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name`, "public"},
		{"tables", grafanaTables, "ping_sensor"},
		{"tables of public", `SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'public'
      ORDER BY 1`, "ping_sensor"},
		{"columns", grafanaColumns, "row_id | bigint\ninsert_timestamp | timestamp with time zone\ntsd_name | text\ntsd_id | bigint\n\"timestamp\" | timestamp with time zone\ndevice_name | text\nvalue | double precision\nok | boolean"},
		{"time series", `SELECT floor(extract(epoch from timestamp)/60)*60 AS "time", avg(value) AS "value" FROM ping_sensor WHERE timestamp BETWEEN '2026-12-01T09:00:00Z' AND '2026-12-01T10:01:30Z' GROUP BY 1 ORDER BY 1`, "1.7961192e+09 | 0.5\n1.79611926e+09 | 1.5"},
		{"table panel", `SELECT timestamp AS "time", device_name AS metric, value FROM ping_sensor WHERE timestamp BETWEEN '2026-12-01T10:00:30Z' AND '2026-12-02T00:00:00Z' ORDER BY 1`, "2026-12-01T10:01:00Z | beta | 1.5\n2026-12-01T10:02:00Z | gamma | 2.5"},
	} {
		if got := all(tc.q); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
