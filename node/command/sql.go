package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SQL is `sql DBMS [options] "SELECT ..."`.
type SQL struct {
	DBMS     string
	Options  SQLOptions
	Query    string
	QueryPos int // offset of Query in the line
}

// SQLOptions are the options of a sql command (reference §4.1).
type SQLOptions struct {
	Format   string // json (default), json:output, json:list, table
	Stat     bool   // default true
	Timezone string // utc (default), local or a zone name
	MaxTime  time.Duration
	Dest     string // stdout (default), rest, file or kafka@host:port
	File     string
	Topic    string
}

// RunClient is `run client (destinations) COMMAND`.
type RunClient struct {
	Dests   []string // empty: every node hosting the query's table
	Subset  bool
	Timeout time.Duration
	Command string
	Inner   Request
}

func (*SQL) request()       {}
func (*RunClient) request() {}

var statementWords = map[string]bool{"select": true, "insert": true, "update": true, "delete": true, "create": true}

func parseSQL(toks []token, line string) (Request, error) {
	if len(toks) < 3 || toks[1].kind != tokWord {
		return nil, errAt(line, len(line), `usage: sql DBMS [format = json|json:output|json:list|table and stat = true|false and ...] "SELECT ..."`)
	}
	q := &SQL{DBMS: toks[1].text, Options: SQLOptions{Format: "json", Stat: true, Timezone: "utc", Dest: "stdout"}}
	start := -1
	for i := 2; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokString && toks[i-1].kind != tokEq {
			start = i
			break
		}
		if t.kind == tokWord && statementWords[strings.ToLower(t.text)] && toks[i-1].kind != tokEq {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, errAt(line, len(line), "missing the SQL statement (it starts with SELECT)")
	}
	if start > 2 {
		kvs, err := parseKV(toks[2:start], line)
		if err != nil {
			return nil, err
		}
		if err := applySQLOptions(&q.Options, kvs, line); err != nil {
			return nil, err
		}
	}
	st := toks[start]
	if st.kind == tokString {
		if start != len(toks)-1 {
			return nil, errAt(line, toks[start+1].pos, "unexpected text after the quoted statement")
		}
		q.Query, q.QueryPos = st.text, st.pos+1
	} else {
		q.Query, q.QueryPos = strings.TrimSpace(line[st.pos:]), st.pos
	}
	if strings.TrimSpace(q.Query) == "" {
		return nil, errAt(line, st.pos, "empty SQL statement")
	}
	return q, nil
}

func applySQLOptions(o *SQLOptions, kvs []kv, line string) error {
	wrong := func(k kv) error {
		return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key '%s'", k.value, k.rawKey), Pos: k.valPos, Line: line}
	}
	for _, k := range kvs {
		v := strings.TrimSpace(k.value)
		switch k.key {
		case "format":
			switch strings.ToLower(v) {
			case "json", "json:output", "json:list", "table":
				o.Format = strings.ToLower(v)
			default:
				return wrong(k)
			}
		case "stat":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return wrong(k)
			}
			o.Stat = b
		case "timezone":
			o.Timezone = v
		case "max_time":
			d, err := parseDuration(v)
			if err != nil || d <= 0 {
				return wrong(k)
			}
			o.MaxTime = d
		case "dest":
			l := strings.ToLower(v)
			switch {
			case l == "stdout" || l == "rest" || l == "file":
				o.Dest = l
			case strings.HasPrefix(l, "kafka@") && len(l) > len("kafka@"):
				o.Dest = "kafka@" + v[len("kafka@"):]
			default:
				return wrong(k)
			}
		case "file":
			o.File = v
		case "topic":
			o.Topic = v
		case "include", "extend", "table", "drop", "output", "title", "source", "test", "option", "pass_through", "committed", "info", "nodes":
			return &Error{Status: "not supported by lakenode", Detail: fmt.Sprintf("the sql option '%s'", k.rawKey), Pos: k.keyPos, Line: line}
		default:
			return &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
	}
	if o.Dest == "file" && o.File == "" {
		return errAt(line, len(line), "dest = file needs file = PATH")
	}
	if strings.HasPrefix(o.Dest, "kafka@") && o.Topic == "" {
		return errAt(line, len(line), "dest = kafka@HOST:PORT needs topic = NAME")
	}
	return nil
}

func parseRunClient(toks []token, line string, vars map[string]string) (Request, error) {
	if len(toks) < 3 {
		return nil, errAt(line, len(line), "usage: run client (destinations) COMMAND")
	}
	rc := &RunClient{}
	var rest int
	if toks[2].kind == tokLParen {
		j := closingParen(toks, 2)
		if j < 0 {
			return nil, errAt(line, toks[2].pos, "unbalanced parenthesis in the destinations")
		}
		inner := toks[3:j]
		// Options inside the parentheses: subset = true, timeout = N.
		var dests []token
		for i := 0; i < len(inner); i++ {
			t := inner[i]
			if t.is("and") && i+2 < len(inner) && inner[i+2].kind == tokEq {
				continue
			}
			if i+2 < len(inner) && inner[i+1].kind == tokEq {
				key, val := strings.ToLower(t.text), inner[i+2]
				switch key {
				case "subset":
					b, err := strconv.ParseBool(val.text)
					if err != nil {
						return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'subset'", val.text), Pos: val.pos, Line: line}
					}
					rc.Subset = b
				case "timeout":
					d, err := parseDuration(val.text)
					if err != nil {
						return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: val.pos, Line: line}
					}
					rc.Timeout = d
				default:
					return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in run client: %s", t.text), Pos: t.pos, Line: line}
				}
				i += 2
				if i+1 < len(inner) && inner[i+1].is("and") {
					i++
				}
				continue
			}
			dests = append(dests, t)
		}
		for _, d := range dests {
			for _, part := range strings.Split(d.text, ",") {
				if p := strings.TrimSpace(part); p != "" {
					rc.Dests = append(rc.Dests, p)
				}
			}
		}
		rest = j + 1
	} else {
		rc.Dests = []string{toks[2].text}
		rest = 3
	}
	if rest >= len(toks) {
		return nil, errAt(line, len(line), "run client needs a command after the destinations")
	}
	rc.Command = strings.TrimSpace(line[toks[rest].pos:])
	inner, err := Parse(rc.Command, vars)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Pos >= 0 {
			e.Pos += toks[rest].pos
			e.Line = line
		}
		return nil, err
	}
	if _, isSQL := inner.(*SQL); !isSQL && len(rc.Dests) == 0 {
		return nil, errAt(line, toks[rest].pos, "run client () needs explicit destinations for non-sql commands")
	}
	rc.Inner = inner
	return rc, nil
}
