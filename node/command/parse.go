package command

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// Request is a parsed command: one of the pointer types of this package
// (*RunKafkaConsumer, *SQL, *RunClient, *Get, *SetVar, ...).
type Request interface{ request() }

// SetVar is `NAME = value`: an entry of the node dictionary, read back by
// `!NAME`.
type SetVar struct{ Name, Value string }

// ExitKafka is `exit kafka`.
type ExitKafka struct{}

// FlushBuffers is `flush buffers`.
type FlushBuffers struct{}

// ConnectDBMS is `connect dbms NAME [where type = sqlite|psql|mongo ...]`; keys
// other than type are accepted and ignored. Name is normalised as table
// names are.
type ConnectDBMS struct{ Name, Type string }

// SetBufferThreshold is `set buffer threshold where [dbms = ..] [and table
// = ..] [and time = N unit] [and volume = N[KB|MB|GB]] [and write_immediate
// = true|false]`; the Has fields say which were given.
type SetBufferThreshold struct {
	DBMS, Table       string
	Time              time.Duration
	HasTime           bool
	Volume            int64 // bytes
	HasVolume         bool
	WriteImmediate    bool
	HasWriteImmediate bool
}

// Ignored is an EdgeLake command with no meaning in lakenode; it succeeds
// with Notice, which says what was ignored and why.
type Ignored struct{ Notice string }

// HelpRequest is `help [COMMAND]`; Topic is "" or the command, lower case.
// (The function Help renders it.)
type HelpRequest struct{ Topic string }

// DropTable is `drop table NAME where dbms = X`.
type DropTable struct{ DBMS, Table string }

// SetRetention is `set retention where dbms = X and table = Y and keep = N
// days` (keep = 0 keeps rows forever).
type SetRetention struct {
	DBMS, Table string
	Keep        time.Duration
}

// Backup is `backup where dir = NAME`: a consistent copy of the node's
// store in NAME under the node's --backup-dir.
type Backup struct{ Dir string }

func (*Backup) request()             {}
func (*DropTable) request()          {}
func (*SetRetention) request()       {}
func (*SetVar) request()             {}
func (*ExitKafka) request()          {}
func (*FlushBuffers) request()       {}
func (*ConnectDBMS) request()        {}
func (*SetBufferThreshold) request() {}
func (*Ignored) request()            {}
func (*HelpRequest) request()        {}

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

// Parse parses one command line; a `< ... >` block joined into one line is
// accepted too. vars is the node dictionary for `!name` words (nil for an
// empty one). An empty line or a `#` comment gives (nil, nil). Every user
// error is a *Error.
func Parse(line string, vars map[string]string) (Request, error) {
	if !BlockComplete(line) {
		t := strings.TrimSpace(line)
		return nil, errAt(t, 0, "the block has no closing >")
	}
	line = StripBlock(line)
	if line == "" || line[0] == '#' {
		return nil, nil
	}
	toks, err := lex(line)
	if err != nil {
		return nil, err
	}
	// NAME = value assigns a variable.
	if toks[0].kind == tokWord && len(toks) >= 2 && toks[1].kind == tokEq && !isCommandWord(toks[0].text) {
		return parseSetVar(toks, line, vars)
	}
	words := leadWords(toks)
	// Ignored commands succeed even when their !names are not set: the
	// EdgeLake commands that would have set them are ignored too.
	for _, ig := range ignoredCommands {
		if hasWords(words, strings.Fields(ig.prefix)...) {
			return &Ignored{Notice: fmt.Sprintf("%s: ignored, %s", ig.prefix, ig.why)}, nil
		}
	}
	if err := substitute(toks, vars, line); err != nil {
		return nil, err
	}
	words = leadWords(toks)
	has := func(ws ...string) bool { return hasWords(words, ws...) }
	only := func(ws ...string) bool { return has(ws...) && len(toks) == len(ws) }
	switch {
	case has("run", "kafka", "consumer"):
		return parseConsumer(toks, line)
	case has("sql"):
		return parseSQL(toks, line)
	case has("run", "client"):
		return parseRunClient(toks, line, vars)
	case has("get"):
		return parseGet(toks, line)
	case only("exit", "kafka"):
		return &ExitKafka{}, nil
	case only("flush", "buffers"):
		return &FlushBuffers{}, nil
	case has("connect", "dbms"):
		return parseConnect(toks, line)
	case has("set", "buffer", "threshold"):
		return parseThreshold(toks, line)
	case has("run", "scheduler"):
		id, err := schedulerID(toks, 2, line)
		if err != nil {
			return nil, err
		}
		return &RunScheduler{ID: max(id, 1)}, nil
	case has("exit", "scheduler"):
		id, err := schedulerID(toks, 2, line)
		if err != nil {
			return nil, err
		}
		return &ExitScheduler{ID: id}, nil
	case has("schedule"):
		return parseSchedule(toks, line)
	case has("task"):
		return parseTaskControl(toks, line)
	case has("drop", "table"):
		return parseDropTable(toks, line)
	case has("set", "retention"):
		return parseRetention(toks, line)
	case has("backup"):
		return parseBackup(toks, line)
	case has("reset", "offsets"):
		return parseResetOffsets(toks, line)
	case has("cancel", "query"):
		return parseCancelQuery(toks, line)
	case has("help"):
		return &HelpRequest{Topic: strings.ToLower(strings.Join(strings.Fields(line)[1:], " "))}, nil
	}
	return nil, unsupported(line, 0, "%s", firstWords(line, 4))
}

// hasWords reports whether words starts with ws.
func hasWords(words []string, ws ...string) bool {
	if len(words) < len(ws) {
		return false
	}
	for i, w := range ws {
		if words[i] != w {
			return false
		}
	}
	return true
}

// leadWords returns the bare words that start toks, in lower case.
func leadWords(toks []token) []string {
	var ws []string
	for _, t := range toks {
		if t.kind != tokWord {
			break
		}
		ws = append(ws, strings.ToLower(t.text))
	}
	return ws
}

func firstWords(line string, n int) string {
	f := strings.Fields(line)
	if len(f) > n {
		return strings.Join(f[:n], " ") + " ..."
	}
	return strings.Join(f, " ")
}

// isCommandWord reports whether w starts a command, so that `w = ...` is
// not taken for a variable.
func isCommandWord(w string) bool {
	switch strings.ToLower(w) {
	case "run", "sql", "get", "exit", "flush", "connect", "set", "help", "create", "blockchain", "drop", "schedule", "task", "backup", "reset", "cancel":
		return true
	}
	return false
}

// parseSetVar parses `NAME = value...`. The value is one quoted string
// without its quotes, or the words as written with !names replaced.
func parseSetVar(toks []token, line string, vars map[string]string) (Request, error) {
	name := toks[0].text
	if strings.HasPrefix(name, "!") {
		return nil, errAt(line, toks[0].pos, "a variable is assigned without its !: %s = value", name[1:])
	}
	val := toks[2:]
	if len(val) == 0 {
		return nil, errAt(line, len(line), "missing value for the variable %s", name)
	}
	if err := substitute(val, vars, line); err != nil {
		return nil, err
	}
	if len(val) == 1 && val[0].kind == tokString {
		return &SetVar{Name: name, Value: val[0].text}, nil
	}
	v, _ := rebuild(val, line)
	return &SetVar{Name: name, Value: v}, nil
}

func parseConnect(toks []token, line string) (Request, error) {
	usage := "usage: connect dbms NAME where type = sqlite|psql|mongo ..."
	if len(toks) < 3 || !toks[2].isValue() {
		return nil, errAt(line, len(line), "%s", usage)
	}
	c := &ConnectDBMS{Name: schema.NormalizeName(toks[2].text)}
	if c.Name == "" {
		return nil, errAt(line, toks[2].pos, "%s", usage)
	}
	if len(toks) == 3 {
		return c, nil
	}
	if !toks[3].is("where") || len(toks) == 4 {
		return nil, errAt(line, toks[3].pos, "%s", usage)
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	for _, k := range kvs {
		if k.key != "type" {
			continue
		}
		switch t := strings.ToLower(k.value); t {
		case "sqlite", "psql", "mongo":
			c.Type = t
		default:
			return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'type' (sqlite, psql or mongo)", k.value), Pos: k.valPos, Line: line}
		}
	}
	return c, nil
}

func parseDropTable(toks []token, line string) (Request, error) {
	usage := "usage: drop table NAME where dbms = DBMS"
	if len(toks) < 7 || !toks[2].isValue() || !toks[3].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	d := &DropTable{Table: strings.ToLower(toks[2].text)}
	for _, k := range kvs {
		if k.key != "dbms" {
			return nil, unknownKey(k, line)
		}
		d.DBMS = strings.ToLower(k.value)
	}
	if d.DBMS == "" {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return d, nil
}

func parseBackup(toks []token, line string) (Request, error) {
	usage := "usage: backup where dir = NAME (a new directory under the node's --backup-dir)"
	if len(toks) < 5 || !toks[1].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	kvs, err := parseKV(toks[2:], line)
	if err != nil {
		return nil, err
	}
	b := &Backup{}
	for _, k := range kvs {
		if k.key != "dir" {
			return nil, unknownKey(k, line)
		}
		b.Dir = k.value
	}
	if b.Dir == "" {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return b, nil
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
			return nil, unknownKey(k, line)
		}
	}
	if r.DBMS == "" || r.Table == "" || !hasKeep {
		return nil, errAt(line, len(line), "%s", usage)
	}
	return r, nil
}

func parseThreshold(toks []token, line string) (Request, error) {
	usage := "usage: set buffer threshold where [dbms = ..] [and table = ..] [and time = N seconds|minutes|hours] [and volume = N|NKB|NMB|NGB] [and write_immediate = true|false]"
	if len(toks) < 5 || !toks[3].is("where") {
		return nil, errAt(line, len(line), "%s", usage)
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	r := &SetBufferThreshold{}
	for _, k := range kvs {
		switch k.key {
		case "dbms", "dbms_name":
			r.DBMS = schema.NormalizeName(k.value)
		case "table", "table_name":
			r.Table = schema.NormalizeName(k.value)
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
			b, ok := parseBool(k.value)
			if !ok {
				return nil, notAllowed(k, line)
			}
			r.WriteImmediate, r.HasWriteImmediate = b, true
		default:
			return nil, unknownKey(k, line)
		}
	}
	if !r.HasTime && !r.HasVolume && !r.HasWriteImmediate {
		return nil, errAt(line, len(line), "set buffer threshold needs time, volume or write_immediate")
	}
	return r, nil
}

// parseBool reads true or false, in any case.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseDuration reads `N seconds|minutes|hours|days|weeks` (singular,
// plural, short forms, or the unit's first letter with t for minutes; N may
// be written against the unit; a bare number is seconds).
func parseDuration(v string) (time.Duration, error) {
	bad := fmt.Errorf("'%s' is not a time: use N seconds, minutes, hours or days", v)
	f := strings.Fields(strings.ToLower(v))
	if len(f) == 0 || len(f) > 2 {
		return 0, bad
	}
	numS, unit := f[0], ""
	if len(f) == 2 {
		unit = f[1]
	} else if i := strings.IndexFunc(numS, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }); i > 0 {
		numS, unit = numS[:i], numS[i:]
	}
	n, err := strconv.ParseFloat(numS, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, bad
	}
	var u time.Duration
	switch unit {
	case "", "s", "sec", "secs", "second", "seconds":
		u = time.Second
	case "t", "m", "min", "mins", "minute", "minutes":
		u = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		u = time.Hour
	case "d", "day", "days":
		u = 24 * time.Hour
	case "w", "week", "weeks":
		u = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("'%s' is not a time unit: use seconds, minutes, hours or days", unit)
	}
	d := n * float64(u)
	if d > math.MaxInt64 {
		return 0, bad
	}
	return time.Duration(d), nil
}

// parseVolume reads bytes, `NKB`, `N MB`, `NGB` (binary units: 1KB is
// 1,024 bytes).
func parseVolume(v string) (int64, error) {
	bad := fmt.Errorf("'%s' is not a volume: use bytes, NKB, NMB or NGB", v)
	s := strings.ToUpper(strings.Join(strings.Fields(v), ""))
	s = strings.ReplaceAll(s, ",", "")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, bad
	}
	return n * mult, nil
}
