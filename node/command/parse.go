package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Request is a parsed command.
type Request interface{ request() }

// SetVar is `name = value`: a variable of the node dictionary.
type SetVar struct{ Name, Value string }

// ExitKafka is `exit kafka`.
type ExitKafka struct{}

// FlushBuffers is `flush buffers`.
type FlushBuffers struct{}

// ConnectDBMS is `connect dbms NAME where type = ...`.
type ConnectDBMS struct{ Name, Type string }

// SetBufferThreshold is `set buffer threshold where ...`.
type SetBufferThreshold struct {
	DBMS, Table       string
	Time              time.Duration
	HasTime           bool
	Volume            int64
	HasVolume         bool
	WriteImmediate    bool
	HasWriteImmediate bool
}

// Ignored is an EdgeLake command with no meaning in lakenode; it succeeds
// with Notice.
type Ignored struct{ Notice string }

// HelpRequest is `help [topic]`.
type HelpRequest struct{ Topic string }

// Get is one of the `get ...` commands. What is the normalised command
// ("processes", "msg client", "msg brokers", "streaming", "streaming config",
// "operator", "databases", "tables", "columns", "rows count", "error log",
// "nodes", "version"); Topic is the `get operator` topic; Where holds the
// `where` keys in lower case.
type Get struct {
	What  string
	Topic string
	JSON  bool
	Where map[string]string
}

// DropTable is `drop table NAME where dbms = X`.
type DropTable struct{ DBMS, Table string }

// SetRetention is `set retention where dbms = X and table = Y and keep = N days`
// (keep = 0 keeps rows forever).
type SetRetention struct {
	DBMS, Table string
	Keep        time.Duration
}

func (*DropTable) request()          {}
func (*SetRetention) request()       {}
func (*SetVar) request()             {}
func (*ExitKafka) request()          {}
func (*FlushBuffers) request()       {}
func (*ConnectDBMS) request()        {}
func (*SetBufferThreshold) request() {}
func (*Ignored) request()            {}
func (*HelpRequest) request()        {}
func (*Get) request()                {}

// ignoredCommands are EdgeLake commands that configure what lakenode does
// on its own; each succeeds with a notice saying so.
var ignoredCommands = []struct{ prefix, why string }{
	{"create work directories", "lakenode keeps everything in its data dir"},
	{"run tcp server", "nodes talk through remote actor messages on --listen"},
	{"run rest server", "the REST port is --http"},
	{"run streamer", "lakenode streams rows straight to its tables"},
	{"run operator", "every lakenode node stores what it consumes"},
	{"run blockchain sync", "lakenode keeps no metadata ledger"},
	{"run publisher", "lakenode stores rows where they are consumed"},
	{"blockchain", "lakenode keeps no metadata ledger"},
	{"set node name", "the node name is --name"},
}

// Parse parses one command line (a `< ... >` block already joined). vars
// is the node dictionary for `!name`. An empty line gives (nil, nil).
func Parse(line string, vars map[string]string) (Request, error) {
	line = strings.TrimSpace(StripBlock(line))
	if line == "" {
		return nil, nil
	}
	toks, err := lex(line)
	if err != nil {
		return nil, err
	}
	words := func(n int) string {
		var ws []string
		for i := 0; i < n && i < len(toks); i++ {
			if toks[i].kind != tokWord {
				break
			}
			ws = append(ws, strings.ToLower(toks[i].text))
		}
		return strings.Join(ws, " ")
	}
	// name = value assigns a variable.
	if len(toks) >= 3 && toks[0].kind == tokWord && toks[1].kind == tokEq && !isCommandWord(toks[0].text) {
		sub, err := substitute(toks[2:], vars, line)
		if err != nil {
			return nil, err
		}
		var vs []string
		for _, t := range sub {
			vs = append(vs, t.text)
		}
		return &SetVar{Name: toks[0].text, Value: strings.Join(vs, " ")}, nil
	}
	if toks, err = substitute(toks, vars, line); err != nil {
		return nil, err
	}
	first := words(1)
	switch {
	case words(3) == "run kafka consumer":
		return parseConsumer(toks, line)
	case first == "sql":
		return parseSQL(toks, line)
	case words(2) == "run client":
		return parseRunClient(toks, line, vars)
	case first == "get":
		return parseGet(toks, line)
	case words(2) == "exit kafka" && len(toks) == 2:
		return &ExitKafka{}, nil
	case words(2) == "flush buffers" && len(toks) == 2:
		return &FlushBuffers{}, nil
	case words(2) == "connect dbms":
		return parseConnect(toks, line)
	case words(3) == "set buffer threshold":
		return parseThreshold(toks, line)
	case words(2) == "run scheduler":
		id, err := schedulerID(toks, 2, line)
		if err != nil {
			return nil, err
		}
		return &RunScheduler{ID: max(id, 1)}, nil
	case words(2) == "exit scheduler":
		id, err := schedulerID(toks, 2, line)
		if err != nil {
			return nil, err
		}
		return &ExitScheduler{ID: id}, nil
	case first == "schedule":
		return parseSchedule(toks, line)
	case first == "task":
		return parseTaskControl(toks, line)
	case words(2) == "drop table":
		return parseDropTable(toks, line)
	case words(2) == "set retention":
		return parseRetention(toks, line)
	case first == "help":
		topic := ""
		if len(toks) > 1 {
			topic = strings.ToLower(strings.TrimSpace(line[toks[1].pos:]))
		}
		return &HelpRequest{Topic: topic}, nil
	}
	low := strings.ToLower(line)
	for _, ig := range ignoredCommands {
		if strings.HasPrefix(low, ig.prefix) {
			return &Ignored{Notice: fmt.Sprintf("%s: ignored, %s", ig.prefix, ig.why)}, nil
		}
	}
	return nil, &Error{Status: "not supported by lakenode", Detail: firstWords(line, 4), Pos: 0, Line: line}
}

func firstWords(line string, n int) string {
	f := strings.Fields(line)
	if len(f) > n {
		return strings.Join(f[:n], " ") + " ..."
	}
	return strings.Join(f, " ")
}

func isCommandWord(w string) bool {
	switch strings.ToLower(w) {
	case "run", "sql", "get", "exit", "flush", "connect", "set", "help", "create", "blockchain", "drop", "schedule", "task":
		return true
	}
	return false
}

func parseConnect(toks []token, line string) (Request, error) {
	if len(toks) < 3 || toks[2].kind == tokEq {
		return nil, errAt(line, len(line), "usage: connect dbms NAME where type = sqlite|psql ...")
	}
	c := &ConnectDBMS{Name: toks[2].text}
	if len(toks) > 3 {
		if !toks[3].is("where") {
			return nil, errAt(line, toks[3].pos, "expected `where`")
		}
		kvs, err := parseKV(toks[4:], line)
		if err != nil {
			return nil, err
		}
		for _, k := range kvs {
			if k.key == "type" {
				c.Type = k.value
			}
		}
	}
	return c, nil
}

func parseDropTable(toks []token, line string) (Request, error) {
	if len(toks) < 7 || toks[2].kind != tokWord || !toks[3].is("where") {
		return nil, errAt(line, len(line), "usage: drop table NAME where dbms = DBMS")
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	d := &DropTable{Table: strings.ToLower(toks[2].text)}
	for _, k := range kvs {
		if k.key != "dbms" {
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
		d.DBMS = strings.ToLower(k.value)
	}
	if d.DBMS == "" {
		return nil, errAt(line, len(line), "usage: drop table NAME where dbms = DBMS")
	}
	return d, nil
}

func parseRetention(toks []token, line string) (Request, error) {
	usage := "usage: set retention where dbms = DBMS and table = TABLE and keep = N days (0 keeps rows forever)"
	if len(toks) < 5 || !toks[2].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	kvs, err := parseKV(toks[3:], line)
	if err != nil {
		return nil, err
	}
	r := &SetRetention{}
	hasKeep := false
	for _, k := range kvs {
		switch k.key {
		case "dbms":
			r.DBMS = strings.ToLower(k.value)
		case "table":
			r.Table = strings.ToLower(k.value)
		case "keep":
			d, err := parseDuration(k.value)
			if err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: k.valPos, Line: line}
			}
			r.Keep, hasKeep = d, true
		default:
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
	}
	if r.DBMS == "" || r.Table == "" || !hasKeep {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return r, nil
}

func parseThreshold(toks []token, line string) (Request, error) {
	if len(toks) < 5 || !toks[3].is("where") {
		return nil, errAt(line, len(line), "usage: set buffer threshold where [dbms = ..] [and table = ..] [and time = N seconds] [and volume = N KB] [and write_immediate = true|false]")
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	r := &SetBufferThreshold{}
	for _, k := range kvs {
		switch k.key {
		case "dbms", "dbms_name":
			r.DBMS = k.value
		case "table", "table_name":
			r.Table = k.value
		case "time":
			d, err := parseDuration(k.value)
			if err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: k.valPos, Line: line}
			}
			r.Time, r.HasTime = d, true
		case "volume":
			v, err := parseVolume(k.value)
			if err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: k.valPos, Line: line}
			}
			r.Volume, r.HasVolume = v, true
		case "write_immediate":
			b, err := strconv.ParseBool(k.value)
			if err != nil {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'write_immediate'", k.value), Pos: k.valPos, Line: line}
			}
			r.WriteImmediate, r.HasWriteImmediate = b, true
		default:
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
	}
	if !r.HasTime && !r.HasVolume && !r.HasWriteImmediate {
		return nil, errAt(line, len(line), "set buffer threshold needs time, volume or write_immediate")
	}
	return r, nil
}

// parseDuration reads `N seconds|minutes|hours|days` (singular, plural or
// first letter; a bare number is seconds).
func parseDuration(v string) (time.Duration, error) {
	f := strings.Fields(strings.ToLower(v))
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("'%s' is not a time: use N seconds, minutes, hours or days", v)
	}
	numS, unit := f[0], "seconds"
	if len(f) == 2 {
		unit = f[1]
	} else if i := strings.IndexFunc(numS, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		numS, unit = numS[:i], numS[i:]
	}
	n, err := strconv.ParseFloat(numS, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("'%s' is not a time: use N seconds, minutes, hours or days", v)
	}
	var u time.Duration
	switch strings.TrimSuffix(unit, "s") {
	case "second", "sec", "":
		u = time.Second
	case "minute", "min", "m", "t":
		u = time.Minute
	case "hour", "h":
		u = time.Hour
	case "day", "d":
		u = 24 * time.Hour
	case "week", "w":
		u = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("'%s' is not a time unit: use seconds, minutes, hours or days", unit)
	}
	return time.Duration(n * float64(u)), nil
}

// parseVolume reads bytes, `NKB`, `N MB`, `NGB` (binary units).
func parseVolume(v string) (int64, error) {
	s := strings.ToUpper(strings.ReplaceAll(v, " ", ""))
	s = strings.ReplaceAll(s, ",", "")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("'%s' is not a volume: use bytes, NKB, NMB or NGB", v)
	}
	return n * mult, nil
}

func parseGet(toks []token, line string) (Request, error) {
	// Words up to `where`.
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
	case "processes", "databases", "tables", "columns", "error log", "nodes", "version", "streaming", "streaming config", "scheduler":
		g.What = what
	case "msg client", "msg clients":
		g.What = "msg client"
	case "msg broker", "msg brokers":
		g.What = "msg brokers"
	case "rows count":
		g.What = what
	case "operator":
		g.What = "operator"
	default:
		if id, ok := strings.CutPrefix(what, "scheduler "); ok {
			if n, err := strconv.Atoi(id); err == nil && n >= 1 {
				g.What, g.Topic = "scheduler", id
				break
			}
		}
		if strings.HasPrefix(what, "operator ") {
			topic := strings.TrimPrefix(what, "operator ")
			switch topic {
			case "summary", "config", "json", "sql", "inserts", "error":
				g.What, g.Topic = "operator", topic
			default:
				return nil, errAt(line, toks[2].pos, "get operator takes summary, config, json, sql, inserts or error, not %q", topic)
			}
			break
		}
		return nil, &Error{Status: "not supported by lakenode", Detail: "get " + what, Pos: 0, Line: line}
	}
	if end < len(toks) {
		kvs, err := parseKV(toks[end+1:], line)
		if err != nil {
			return nil, err
		}
		for _, k := range kvs {
			if k.key == "format" {
				switch strings.ToLower(k.value) {
				case "json":
					g.JSON = true
				case "table":
				default:
					return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'format'", k.value), Pos: k.valPos, Line: line}
				}
				continue
			}
			if !getKeyAllowed(g.What, k.key) {
				return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
			}
			g.Where[k.key] = k.value
		}
	}
	switch g.What {
	case "tables":
		if g.Where["dbms"] == "" {
			return nil, errAt(line, len(line), "usage: get tables where dbms = NAME (or *)")
		}
	case "columns":
		if g.Where["dbms"] == "" || g.Where["table"] == "" {
			return nil, errAt(line, len(line), "usage: get columns where dbms = NAME and table = NAME")
		}
	}
	return g, nil
}

func getKeyAllowed(what, key string) bool {
	switch what {
	case "msg client":
		return key == "id" || key == "broker" || key == "topic" || key == "detailed" || key == "statistics"
	case "tables":
		return key == "dbms"
	case "columns", "rows count":
		return key == "dbms" || key == "table"
	}
	return false
}
