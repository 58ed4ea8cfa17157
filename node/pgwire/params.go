package pgwire

import (
	"context"
	"regexp"
	"strconv"
	"strings"
)

// Parameter types are inferred as PostgreSQL infers them from where a $n
// stands, for the common places: compared with a column (x > $1, $1 = x,
// x BETWEEN $1 AND $2, x IN ($1, $2)) it takes the column's type; LIMIT
// and OFFSET take int8. Others stay undeclared (described as text).
var (
	paramCmpRE    = regexp.MustCompile(`(?i)("[^"]+"|[a-z_][a-z0-9_.]*)\s*(?:=|<>|!=|<=|>=|<|>)\s*\$(\d+)`)
	paramCmpRevRE = regexp.MustCompile(`(?i)\$(\d+)\s*(?:=|<>|!=|<=|>=|<|>)\s*("[^"]+"|[a-z_][a-z0-9_.]*)`)
	paramBetween  = regexp.MustCompile(`(?i)("[^"]+"|[a-z_][a-z0-9_.]*)\s+(?:not\s+)?between\s+\$(\d+)\s+and\s+\$(\d+)`)
	paramIn       = regexp.MustCompile(`(?i)("[^"]+"|[a-z_][a-z0-9_.]*)\s+(?:not\s+)?in\s*\(([^)]*)\)`)
	paramLimit    = regexp.MustCompile(`(?i)\b(?:limit|offset)\s+\$(\d+)`)
	paramRef      = regexp.MustCompile(`\$(\d+)`)
)

// inferParams fills the undeclared (0) entries of oids from the statement
// and the dbms's columns.
func (s *session) inferParams(ctx context.Context, text string, oids []uint32) {
	if !strings.Contains(text, "$") {
		return
	}
	cols := map[string]uint32{}
	if ts, err := s.srv.cfg.Engine.Tables(ctx, s.dbms); err == nil {
		for _, t := range ts {
			for _, c := range t.Columns {
				cols[strings.ToLower(c.Name)] = oidOf(c.Type)
			}
		}
	}
	set := func(n string, oid uint32) {
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || i > len(oids) || oids[i-1] != 0 || oid == 0 {
			return
		}
		oids[i-1] = oid
	}
	colOID := func(name string) uint32 {
		name = strings.ToLower(strings.Trim(name, `"`))
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		return cols[name]
	}
	for _, m := range paramLimit.FindAllStringSubmatch(text, -1) {
		set(m[1], oidInt8)
	}
	for _, m := range paramCmpRE.FindAllStringSubmatch(text, -1) {
		set(m[2], colOID(m[1]))
	}
	for _, m := range paramCmpRevRE.FindAllStringSubmatch(text, -1) {
		set(m[1], colOID(m[2]))
	}
	for _, m := range paramBetween.FindAllStringSubmatch(text, -1) {
		set(m[2], colOID(m[1]))
		set(m[3], colOID(m[1]))
	}
	for _, m := range paramIn.FindAllStringSubmatch(text, -1) {
		for _, r := range paramRef.FindAllStringSubmatch(m[2], -1) {
			set(r[1], colOID(m[1]))
		}
	}
}
