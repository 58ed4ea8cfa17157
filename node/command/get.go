package command

import (
	"fmt"
	"strconv"
	"strings"
)

// Get is one of the `get ...` commands. What is the normalised command:
// "processes", "msg client", "msg brokers", "streaming", "streaming config",
// "operator", "databases", "tables", "columns", "rows count", "error log",
// "nodes", "version", "scheduler" or "queries". Topic is the `get operator` topic
// (summary, config, json, sql, inserts, error; "" for all) or the id of
// `get scheduler N`. JSON is `where format = json`. Where holds the other
// `where` keys in lower case with their values as written; the accessors
// read them typed (Parse has checked them).
type Get struct {
	What  string
	Topic string
	JSON  bool
	Where map[string]string
}

func (*Get) request() {}

// ID returns `where id = N` of `get msg client`.
func (g *Get) ID() (int, bool) {
	v, ok := g.Where["id"]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Flag returns a true|false key such as detailed or statistics (false when
// absent).
func (g *Get) Flag(key string) bool {
	b, _ := parseBool(g.Where[key])
	return b
}

// DBMS returns `where dbms = X` ("" when absent, "*" for every database).
func (g *Get) DBMS() string { return g.Where["dbms"] }

// Table returns `where table = X` ("" when absent).
func (g *Get) Table() string { return g.Where["table"] }

// getKeys are the `where` keys (besides format) of each get command.
var getKeys = map[string][]string{
	"msg client": {"id", "broker", "topic", "detailed", "statistics"},
	"tables":     {"dbms"},
	"columns":    {"dbms", "table"},
	"rows count": {"dbms", "table"},
}

func parseGet(toks []token, line string) (Request, error) {
	end := len(toks)
	for i, t := range toks {
		if t.is("where") {
			end = i
			break
		}
	}
	var ws []string
	for _, t := range toks[1:end] {
		if t.kind != tokWord {
			return nil, errAt(line, t.pos, "unexpected %q", t.raw)
		}
		ws = append(ws, strings.ToLower(t.text))
	}
	g := &Get{Where: map[string]string{}}
	what := strings.Join(ws, " ")
	switch what {
	case "processes", "databases", "tables", "columns", "rows count", "error log", "nodes", "version",
		"streaming", "streaming config", "operator", "scheduler", "queries":
		g.What = what
	case "msg client", "msg clients":
		g.What = "msg client"
	case "msg broker", "msg brokers":
		g.What = "msg brokers"
	default:
		if id, ok := strings.CutPrefix(what, "scheduler "); ok {
			if n, err := strconv.Atoi(id); err == nil && n >= 1 {
				g.What, g.Topic = "scheduler", id
				break
			}
			return nil, errAt(line, toks[2].pos, "a scheduler id is a number from 1")
		}
		if topic, ok := strings.CutPrefix(what, "operator "); ok {
			switch topic {
			case "summary", "config", "json", "sql", "inserts", "error":
				g.What, g.Topic = "operator", topic
			default:
				return nil, errAt(line, toks[2].pos, "get operator takes summary, config, json, sql, inserts or error, not %q", topic)
			}
			break
		}
		return nil, unsupported(line, 0, "%s", strings.TrimSpace("get "+what))
	}
	if end < len(toks) {
		if end == len(toks)-1 {
			return nil, errAt(line, len(line), "a key must follow `where`")
		}
		kvs, err := parseKV(toks[end+1:], line)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, k := range kvs {
			if seen[k.key] {
				return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
			}
			seen[k.key] = true
			if k.isNest {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", k.key), Pos: k.valPos, Line: line}
			}
			if err := g.set(k, line); err != nil {
				return nil, err
			}
		}
	}
	switch g.What {
	case "tables":
		if g.DBMS() == "" {
			return nil, errAt(line, len(line), "usage: get tables where dbms = NAME (or *)")
		}
	case "columns":
		if g.DBMS() == "" || g.Table() == "" {
			return nil, errAt(line, len(line), "usage: get columns where dbms = NAME and table = NAME")
		}
	}
	return g, nil
}

// set checks one `where` key of g and stores it.
func (g *Get) set(k kv, line string) error {
	if k.key == "format" {
		switch strings.ToLower(k.value) {
		case "json":
			g.JSON = true
		case "table":
		default:
			return notAllowed(k, line)
		}
		return nil
	}
	allowed := false
	for _, a := range getKeys[g.What] {
		allowed = allowed || a == k.key
	}
	if !allowed {
		return unknownKey(k, line)
	}
	switch k.key {
	case "id":
		if n, err := strconv.Atoi(k.value); err != nil || n < 0 {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'id' (a subscription number)", k.value), Pos: k.valPos, Line: line}
		}
	case "detailed", "statistics":
		if _, ok := parseBool(k.value); !ok {
			return notAllowed(k, line)
		}
	}
	g.Where[k.key] = k.value
	return nil
}
