package pgwire

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/tables/schema"
)

// answer is a result lakenode builds itself.
type answer struct {
	cols []Column
	rows []schema.Row
}

// catalogRE finds statements that read PostgreSQL's catalogs.
var catalogRE = regexp.MustCompile(`(?i)\b(pg_catalog|information_schema|pg_class|pg_namespace|pg_attribute|pg_type|pg_database|pg_tables|pg_settings|pg_proc|pg_roles|pg_index|pg_extension)\b|current_setting\('server_version_num'\)::`)

// fromRE finds a FROM clause.
var fromRE = regexp.MustCompile(`(?i)\bfrom\b`)

// local answers what lakenode answers without a table: a SELECT of
// constants and session functions (version(), current_database(), ...),
// and the catalog queries it recognises. ok is false for anything else.
func (s *session) local(sql string) (answer, bool, *pgError) {
	if fromRE.MatchString(sql) {
		return answer{}, false, nil
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sql), ";"))
	lower := strings.ToLower(body)
	if !strings.HasPrefix(lower, "select") {
		return answer{}, false, nil
	}
	items := splitItems(body[len("select"):])
	var a answer
	row := schema.Row{}
	for _, it := range items {
		expr, alias := splitAlias(it)
		v, name, ok := s.constant(expr)
		if !ok {
			return answer{}, false, nil
		}
		if alias != "" {
			name = alias
		}
		a.cols = append(a.cols, Column{Name: name, Type: v.Type})
		row = append(row, v)
	}
	if len(a.cols) == 0 {
		return answer{}, false, nil
	}
	a.rows = []schema.Row{row}
	return a, true, nil
}

// splitItems cuts a select list at its top-level commas.
func splitItems(s string) []string {
	var out []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

var aliasRE = regexp.MustCompile("(?i)^(.*?)\\s+(?:as\\s+)?`?([a-z_][a-z0-9_]*)`?$")

func splitAlias(item string) (string, string) {
	if m := aliasRE.FindStringSubmatch(item); m != nil && !strings.HasSuffix(strings.ToLower(m[1]), "current") {
		return strings.TrimSpace(m[1]), m[2]
	}
	return item, ""
}

var settingRE = regexp.MustCompile(`(?i)^current_setting\(\s*'([^']*)'\s*(?:,\s*(?:true|false)\s*)?\)$`)

// constant evaluates one select item lakenode answers itself, with the
// column name PostgreSQL gives it.
func (s *session) constant(expr string) (schema.Value, string, bool) {
	e := strings.ToLower(strings.Join(strings.Fields(expr), ""))
	switch e {
	case "version()":
		return schema.Str("PostgreSQL " + serverVersion + " (lakenode " + s.srv.cfg.Engine.Version() + ")"), "version", true
	case "current_database()", "current_catalog":
		return schema.Str(s.dbms), strings.TrimSuffix(e, "()"), true
	case "current_schema()", "current_schema":
		return schema.Str("public"), "current_schema", true
	case "current_user", "session_user", "user", "current_role":
		return schema.Str(s.params["user"]), e, true
	case "pg_backend_pid()":
		return schema.Int(int64(s.pid)), "pg_backend_pid", true
	case "true", "false":
		return schema.Bool(e == "true"), "bool", true
	case "null":
		return schema.Null, "?column?", true
	}
	if m := settingRE.FindStringSubmatch(strings.TrimSpace(expr)); m != nil {
		return schema.Str(s.setting(m[1])), "current_setting", true
	}
	if i, err := strconv.ParseInt(e, 10, 64); err == nil {
		return schema.Int(i), "?column?", true
	}
	if len(e) >= 2 && e[0] == '\'' && e[len(e)-1] == '\'' {
		t := strings.TrimSpace(expr)
		return schema.Str(strings.ReplaceAll(t[1:len(t)-1], "''", "'")), "?column?", true
	}
	return schema.Value{}, "", false
}
