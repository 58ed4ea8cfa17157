package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/tables/schema"
)

// The catalog queries lakenode answers are recognised by shape (the
// distinctive parts of the text psql 15 sends for \dt, \d, \d NAME, \l and
// \dn, and Grafana's PostgreSQL data source sends for its pickers) and
// answered from the node's tables. Every table of the session's dbms is
// in schema public; its oid is firstTableOID plus its place in name order.
const firstTableOID = 16384

// owner is the owner catalog answers name.
const owner = "lakenode"

type catalogQuery struct {
	name   string
	re     *regexp.Regexp
	answer func(s *session, ctx context.Context, m []string) (answer, *pgError)
}

var catalogQueries = []catalogQuery{
	// Grafana's PostgreSQL data source (postgresMetaQuery.ts of Grafana
	// 12): the version check, TimescaleDB, and the schema, table and
	// column pickers.
	{"Grafana: version", regexp.MustCompile(`^SELECT current_setting\('server_version_num'\)::int/100 as version$`), (*session).grafanaVersion},
	{"Grafana: TimescaleDB", regexp.MustCompile(`^SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'$`), (*session).noExtension},
	{"Grafana: schemas", regexp.MustCompile(`(?s)^SELECT schema_name AS "name"\s+FROM information_schema\.schemata\s+WHERE schema_name NOT IN \(`), (*session).grafanaSchemas},
	{"Grafana: tables of a schema", regexp.MustCompile(`(?s)^SELECT quote_ident\(table_name\) AS "table"\s+FROM information_schema\.tables\s+WHERE quote_ident\(table_schema\) = '((?:[^']|'')*)'\s+ORDER BY 1$`), (*session).grafanaTables},
	{"Grafana: tables", regexp.MustCompile(`(?s)^SELECT\s+CASE WHEN\s+quote_ident\(table_schema\) IN \(.*THEN quote_ident\(table_name\)\s+ELSE quote_ident\(table_schema\) \|\| '\.' \|\| quote_ident\(table_name\)\s+END AS "table"\s+FROM information_schema\.tables`), (*session).grafanaTables},
	{"Grafana: columns", regexp.MustCompile(`(?s)^SELECT quote_ident\(column_name\) AS "column", data_type AS "type"\s+FROM information_schema\.columns\s+WHERE\s+CASE WHEN array_length\(parse_ident\('((?:[^']|'')*)'\),1\) = 2`), (*session).grafanaColumns},

	{"psql \\d NAME: find the table", regexp.MustCompile(`(?s)SELECT c\.oid,\s+n\.nspname,\s+c\.relname\s+FROM pg_catalog\.pg_class c.*c\.relname OPERATOR\(pg_catalog\.~\) '\^\((.{1,200}?)\)\$'`), (*session).findTable},
	{"psql \\d NAME: the table's kind", regexp.MustCompile(`(?s)^SELECT c\.relchecks, c\.relkind, c\.relhasindex,.*FROM pg_catalog\.pg_class c.*WHERE c\.oid = '(\d+)'`), (*session).tableKind},
	{"psql \\d NAME: the table's columns", regexp.MustCompile(`(?s)^SELECT a\.attname,\s+pg_catalog\.format_type\(a\.atttypid, a\.atttypmod\),.*FROM pg_catalog\.pg_attribute a\s+WHERE a\.attrelid = '(\d+)' AND a\.attnum > 0`), (*session).tableColumns},
	{"psql \\d NAME: what lakenode tables do not have (policies, statistics, publications, parents, triggers, constraints, indexes, rules)", regexp.MustCompile(`(?s)FROM pg_catalog\.(?:pg_policy|pg_statistic_ext|pg_publication|pg_inherits|pg_trigger|pg_constraint|pg_index|pg_rewrite|pg_class c2|pg_class c, pg_catalog\.pg_inherits)\b.*'(\d+)'`), (*session).nothingFor},
	{"psql \\dt, \\d: list tables", regexp.MustCompile(`(?s)^SELECT n\.nspname as "Schema",\s+c\.relname as "Name",.*FROM pg_catalog\.pg_class c.*c\.relkind IN \(`), (*session).listTables},
	{"psql \\l: list databases", regexp.MustCompile(`(?s)^SELECT d\.datname as "Name",.*FROM pg_catalog\.pg_database d`), (*session).listDatabases},
	{"psql \\dn: list schemas", regexp.MustCompile(`(?s)^SELECT n\.nspname AS "Name",\s+pg_catalog\.pg_get_userbyid\(n\.nspowner\) AS "Owner"\s+FROM pg_catalog\.pg_namespace n`), (*session).listSchemas},
}

// catalog answers a catalog query lakenode recognises; any other gets
// SQLSTATE 0A000.
func (s *session) catalog(ctx context.Context, text string, _ []string) (answer, *pgError) {
	for _, q := range catalogQueries {
		if m := q.re.FindStringSubmatch(text); m != nil {
			return q.answer(s, ctx, m)
		}
	}
	return answer{}, &pgError{Code: codeNotSupported, Msg: "this catalog query is not supported: lakenode answers the catalog queries of psql's \\dt, \\d, \\d NAME, \\l and \\dn and of Grafana's table and column pickers"}
}

// tables returns the session's dbms's tables in name order.
func (s *session) tables(ctx context.Context) ([]TableInfo, *pgError) {
	ts, err := s.srv.cfg.Engine.Tables(ctx, s.dbms)
	if err != nil {
		return nil, toPG(err, "", nil)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts, nil
}

func strCols(names ...string) []Column {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n, Type: schema.TypeString}
	}
	return cols
}

func strRow(vals ...string) schema.Row {
	r := make(schema.Row, len(vals))
	for i, v := range vals {
		r[i] = schema.Str(v)
	}
	return r
}

func (s *session) listTables(ctx context.Context, _ []string) (answer, *pgError) {
	ts, err := s.tables(ctx)
	if err != nil {
		return answer{}, err
	}
	a := answer{cols: strCols("Schema", "Name", "Type", "Owner")}
	for _, t := range ts {
		a.rows = append(a.rows, strRow("public", t.Name, "table", owner))
	}
	return a, nil
}

func (s *session) findTable(ctx context.Context, m []string) (answer, *pgError) {
	ts, err := s.tables(ctx)
	if err != nil {
		return answer{}, err
	}
	re, rerr := regexp.Compile("^(?:" + m[1] + ")$")
	if rerr != nil {
		return answer{}, &pgError{Code: "2201B", Msg: fmt.Sprintf("invalid regular expression: %v", rerr)}
	}
	a := answer{cols: []Column{{"oid", schema.TypeInt}, {"nspname", schema.TypeString}, {"relname", schema.TypeString}}}
	for i, t := range ts {
		if re.MatchString(t.Name) {
			a.rows = append(a.rows, schema.Row{schema.Int(int64(firstTableOID + i)), schema.Str("public"), schema.Str(t.Name)})
		}
	}
	return a, nil
}

func (s *session) listDatabases(ctx context.Context, _ []string) (answer, *pgError) {
	dbs, err := s.srv.cfg.Engine.Databases(ctx)
	if err != nil {
		return answer{}, toPG(err, "", nil)
	}
	sort.Strings(dbs)
	a := answer{cols: strCols("Name", "Owner", "Encoding", "Collate", "Ctype", "ICU Locale", "Locale Provider", "Access privileges")}
	for _, d := range dbs {
		a.rows = append(a.rows, schema.Row{schema.Str(d), schema.Str(owner), schema.Str("UTF8"), schema.Str("C"), schema.Str("C"), schema.Null, schema.Str("libc"), schema.Null})
	}
	return a, nil
}

func (s *session) listSchemas(context.Context, []string) (answer, *pgError) {
	return answer{cols: strCols("Name", "Owner"), rows: []schema.Row{strRow("public", owner)}}, nil
}

// tableByOID finds a table by the oid findTable gave it.
func (s *session) tableByOID(ctx context.Context, oid string) (TableInfo, bool, *pgError) {
	ts, err := s.tables(ctx)
	if err != nil {
		return TableInfo{}, false, err
	}
	var n int
	if _, serr := fmt.Sscanf(strings.TrimSpace(oid), "%d", &n); serr != nil || n < firstTableOID || n-firstTableOID >= len(ts) {
		return TableInfo{}, false, nil
	}
	return ts[n-firstTableOID], true, nil
}

func (s *session) tableKind(ctx context.Context, m []string) (answer, *pgError) {
	a := answer{cols: []Column{
		{"relchecks", schema.TypeInt}, {"relkind", schema.TypeString}, {"relhasindex", schema.TypeBool}, {"relhasrules", schema.TypeBool},
		{"relhastriggers", schema.TypeBool}, {"relrowsecurity", schema.TypeBool}, {"relforcerowsecurity", schema.TypeBool}, {"relhasoids", schema.TypeBool},
		{"relispartition", schema.TypeBool}, {"?column?", schema.TypeString}, {"reltablespace", schema.TypeInt}, {"reloftype", schema.TypeString},
		{"relpersistence", schema.TypeString}, {"relreplident", schema.TypeString}, {"amname", schema.TypeString},
	}}
	if _, ok, err := s.tableByOID(ctx, m[1]); err != nil || !ok {
		return a, err
	}
	f := schema.Bool(false)
	a.rows = []schema.Row{{schema.Int(0), schema.Str("r"), f, f, f, f, f, f, f, schema.Str(""), schema.Int(0), schema.Str(""), schema.Str("p"), schema.Str("d"), schema.Str("heap")}}
	return a, nil
}

// typeName is PostgreSQL's name of the type a column is sent as.
func typeName(t schema.Type) string {
	switch oidOf(t) {
	case oidInt8:
		return "bigint"
	case oidFloat8:
		return "double precision"
	case oidBool:
		return "boolean"
	case oidTimestamptz:
		return "timestamp with time zone"
	}
	return "text"
}

func (s *session) tableColumns(ctx context.Context, m []string) (answer, *pgError) {
	a := answer{cols: []Column{
		{"attname", schema.TypeString}, {"format_type", schema.TypeString}, {"pg_get_expr", schema.TypeString}, {"attnotnull", schema.TypeBool},
		{"attcollation", schema.TypeString}, {"attidentity", schema.TypeString}, {"attgenerated", schema.TypeString},
	}}
	t, ok, err := s.tableByOID(ctx, m[1])
	if err != nil || !ok {
		return a, err
	}
	for _, c := range t.Columns {
		a.rows = append(a.rows, schema.Row{schema.Str(c.Name), schema.Str(typeName(c.Type)), schema.Null, schema.Bool(false), schema.Null, schema.Str(""), schema.Str("")})
	}
	return a, nil
}

// nothingFor answers a question about a table's parts lakenode tables do
// not have: no rows.
func (s *session) nothingFor(ctx context.Context, m []string) (answer, *pgError) {
	if _, ok, err := s.tableByOID(ctx, m[1]); err != nil || !ok {
		return answer{}, &pgError{Code: codeNotSupported, Msg: "this catalog query is not supported: it names no lakenode table"}
	}
	return answer{cols: []Column{{"?column?", schema.TypeString}}}, nil
}

func (s *session) grafanaVersion(context.Context, []string) (answer, *pgError) {
	n, _ := strconv.Atoi(defaultSettings["server_version_num"])
	return answer{cols: []Column{{"version", schema.TypeInt}}, rows: []schema.Row{{schema.Int(int64(n / 100))}}}, nil
}

func (s *session) noExtension(context.Context, []string) (answer, *pgError) {
	return answer{cols: strCols("extversion")}, nil
}

func (s *session) grafanaSchemas(context.Context, []string) (answer, *pgError) {
	return answer{cols: strCols("name"), rows: []schema.Row{strRow("public")}}, nil
}

func (s *session) grafanaTables(ctx context.Context, m []string) (answer, *pgError) {
	a := answer{cols: strCols("table")}
	if len(m) > 1 && strings.ReplaceAll(m[1], "''", "'") != "public" {
		return a, nil
	}
	ts, err := s.tables(ctx)
	if err != nil {
		return a, err
	}
	for _, t := range ts {
		a.rows = append(a.rows, strRow(quoteIdent(t.Name)))
	}
	return a, nil
}

func (s *session) grafanaColumns(ctx context.Context, m []string) (answer, *pgError) {
	a := answer{cols: strCols("column", "type")}
	name := strings.ReplaceAll(m[1], "''", "'")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Trim(name, `"`)
	ts, err := s.tables(ctx)
	if err != nil {
		return a, err
	}
	for _, t := range ts {
		if t.Name != name {
			continue
		}
		for _, c := range t.Columns {
			a.rows = append(a.rows, strRow(quoteIdent(c.Name), typeName(c.Type)))
		}
	}
	return a, nil
}

// quoteIdent quotes a name as PostgreSQL's quote_ident does: only when
// it is not a plain lower-case identifier.
func quoteIdent(n string) string {
	plain := n != ""
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
		}
	}
	if plain && !reservedWords[n] {
		return n
	}
	return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
}

// reservedWords are PostgreSQL's reserved key words a column could be
// named, which quote_ident quotes.
var reservedWords = map[string]bool{"time": true, "timestamp": true, "all": true, "and": true, "as": true, "case": true, "check": true, "column": true, "default": true, "desc": true, "distinct": true, "end": true, "from": true, "group": true, "limit": true, "not": true, "null": true, "offset": true, "on": true, "or": true, "order": true, "select": true, "table": true, "to": true, "user": true, "where": true, "with": true}
