package command

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/kafka/spec"
)

// SQL is `sql DBMS [key = value and ...] ["]SELECT ...["]`. Query is the
// statement without its quotes; QueryPos is its byte offset in the line
// given to Parse.
type SQL struct {
	DBMS     string
	Options  SQLOptions
	Query    string
	QueryPos int
}

// SQLOptions are the options of a sql command (reference §4.1).
type SQLOptions struct {
	Format   string        // json (default), json:output, json:list, table or csv
	Stat     bool          // the Statistics block; default true
	Timezone string        // utc (default), local or a zone name as written
	MaxTime  time.Duration // 0: none
	Dest     string        // stdout (default), rest, file or kafka@HOST:PORT
	File     string        // with dest = file
	Topic    string        // with dest = kafka@HOST:PORT
	// SinceLast is the lakenode addition `since = last` (with dest =
	// kafka@...): only rows committed since the job's previous export,
	// exactly once across crashes.
	SinceLast bool
	// Compression is the codec of the exported records (`compression =
	// none|gzip|snappy|lz4|zstd`, with dest = kafka@...); "" is none,
	// which every Kafka client reads without optional packages.
	Compression string
	// Key is the result column whose value keys each exported record
	// (`key = COLUMN`); "" sends records without a key.
	Key string
	// Kafka is the TLS and SASL settings of the export's clients (the
	// security keys beside dest = kafka@...).
	Kafka spec.Security
}

// RunClient is `run client (DESTINATIONS) COMMAND`. Dests is empty for
// `()` (every node hosting the query's table); it holds node names or
// host:port addresses otherwise. Subset and Timeout are the `subset = true`
// and `timeout = N` options inside the parentheses. Command is the command
// as written but with this node's !names replaced, ready to send to other
// nodes; Inner is its parsed form.
type RunClient struct {
	Dests   []string
	Subset  bool
	Timeout time.Duration
	Command string
	Inner   Request
}

func (*SQL) request()       {}
func (*RunClient) request() {}

var statementWords = map[string]bool{"select": true, "insert": true, "update": true, "delete": true, "create": true}

const sqlUsage = `usage: sql DBMS [format = json|json:output|json:list|table|csv and stat = true|false and ...] "SELECT ..."`

// MaxStatementBytes is the longest statement a sql command takes: the SQL
// engine's limit (tables/sql.MaxStatementBytes). A sql command line longer
// than that and maxOptionBytes for its options is refused as a whole.
const (
	MaxStatementBytes = 64 << 10
	maxOptionBytes    = 4 << 10
)

// tooLong refuses an over-long sql command without echoing it.
func tooLong(what string, n int) *Error {
	return &Error{Status: statusStructure, Pos: -1,
		Detail: fmt.Sprintf("the %s is %d bytes long; a SQL statement may have at most %d bytes (64 KiB)", what, n, MaxStatementBytes)}
}

func parseSQL(toks []token, line string) (Request, error) {
	if len(line) > MaxStatementBytes+maxOptionBytes {
		return nil, tooLong("sql command", len(line))
	}
	if len(toks) < 3 || toks[1].kind != tokWord || statementWords[strings.ToLower(toks[1].text)] {
		return nil, errAt(line, len(line), "%s", sqlUsage)
	}
	q := &SQL{DBMS: toks[1].text, Options: SQLOptions{Format: "json", Stat: true, Timezone: "utc", Dest: "stdout"}}
	// The statement starts at the first select|insert|update|delete|create
	// or the first quoted word that is not an option's value.
	start := -1
	for i := 2; i < len(toks); i++ {
		t := toks[i]
		if toks[i-1].kind == tokEq {
			continue
		}
		if t.kind == tokString || (t.kind == tokWord && statementWords[strings.ToLower(t.text)]) {
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
		q.Query, _ = rebuild(toks[start:], line)
		q.QueryPos = st.pos
	}
	if strings.TrimSpace(q.Query) == "" {
		return nil, errAt(line, st.pos, "empty SQL statement")
	}
	if len(q.Query) > MaxStatementBytes {
		return nil, tooLong("statement", len(q.Query))
	}
	return q, nil
}

func applySQLOptions(o *SQLOptions, kvs []kv, line string) error {
	seen := map[string]bool{}
	var sec securityState
	secPos := -1
	for _, k := range kvs {
		if seen[k.key] {
			return &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
		seen[k.key] = true
		if k.isNest && k.key != "include" && k.key != "extend" {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", k.key), Pos: k.valPos, Line: line}
		}
		if known, err := applySQLOption(o, k, line); known {
			if err != nil {
				return err
			}
			continue
		}
		if !isSecurityKey(k.key) {
			return unknownKey(k, line)
		}
		if err := sec.add(k, line); err != nil {
			return err
		}
		if secPos < 0 {
			secPos = k.keyPos
		}
	}
	var err error
	if o.Kafka, err = sec.finish(line); err != nil {
		return err
	}
	if secPos >= 0 && !strings.HasPrefix(o.Dest, "kafka@") {
		return errAt(line, secPos, "the TLS and SASL keys work with dest = kafka@HOST:PORT only")
	}
	return checkSQLDest(o, seen, line)
}

// applySQLOption sets the option of one key; known is false for a key that
// is not a query option (a security key, or an unknown one).
func applySQLOption(o *SQLOptions, k kv, line string) (known bool, err error) {
	v := strings.TrimSpace(k.value)
	switch k.key {
	case "format":
		switch l := strings.ToLower(v); l {
		case "json", "json:output", "json:list", "table", "csv":
			o.Format = l
		default:
			return true, notAllowed(k, line)
		}
	case "stat":
		b, ok := parseBool(v)
		if !ok {
			return true, notAllowed(k, line)
		}
		o.Stat = b
	case "timezone":
		switch l := strings.ToLower(v); l {
		case "utc", "local":
			o.Timezone = l
		default:
			o.Timezone = v
		}
	case "max_time":
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			return true, notAllowed(k, line)
		}
		o.MaxTime = d
	case "dest":
		l := strings.ToLower(v)
		switch {
		case l == "stdout" || l == "rest" || l == "file":
			o.Dest = l
		case strings.HasPrefix(l, "kafka@"):
			addr := v[len("kafka@"):]
			if !isHostPort(addr) {
				return true, notAllowed(k, line)
			}
			o.Dest = "kafka@" + addr
		default:
			return true, notAllowed(k, line)
		}
	case "file":
		o.File = v
	case "topic":
		o.Topic = v
	case "since":
		if strings.ToLower(v) != "last" {
			return true, notAllowed(k, line)
		}
		o.SinceLast = true
	case "compression":
		l := strings.ToLower(v)
		if !spec.Compressions[l] {
			return true, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'compression' (%s)", v, spec.CompressionList), Pos: k.valPos, Line: line}
		}
		o.Compression = l
	case "key":
		if v == "" {
			return true, notAllowed(k, line)
		}
		o.Key = v
	case "include", "extend", "table", "drop", "output", "title", "source", "test", "option", "pass_through", "committed", "info", "nodes":
		return true, unsupported(line, k.keyPos, "the sql option %s", k.key)
	default:
		return false, nil
	}
	return true, nil
}

// checkSQLDest checks that the options fit the destination.
func checkSQLDest(o *SQLOptions, seen map[string]bool, line string) error {
	if o.Dest == "file" && o.File == "" {
		return errAt(line, len(line), "dest = file needs file = NAME (a file under the node's --files-dir)")
	}
	if strings.HasPrefix(o.Dest, "kafka@") && o.Topic == "" {
		return errAt(line, len(line), "dest = kafka@HOST:PORT needs topic = NAME")
	}
	if o.SinceLast && !strings.HasPrefix(o.Dest, "kafka@") {
		return errAt(line, len(line), "since = last works with dest = kafka@HOST:PORT only")
	}
	if (seen["compression"] || seen["key"]) && !strings.HasPrefix(o.Dest, "kafka@") {
		return errAt(line, len(line), "compression and key work with dest = kafka@HOST:PORT only")
	}
	return nil
}

// isHostPort reports whether s is HOST:PORT with a port number.
func isHostPort(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return false
	}
	p, err := strconv.Atoi(s[i+1:])
	return err == nil && p > 0 && p <= 65535 && !strings.ContainsAny(s, " \t,")
}

func parseRunClient(toks []token, line string, vars map[string]string) (Request, error) {
	usage := "usage: run client (DESTINATIONS) COMMAND, with () for every node hosting the table, (name, host:port, ...) and options subset = true, timeout = N inside the parentheses"
	if len(toks) < 4 {
		return nil, errAt(line, len(line), "%s", usage)
	}
	rc := &RunClient{}
	var rest int
	switch t := toks[2]; {
	case t.kind == tokLParen:
		j := closingParen(toks, 2)
		if j < 0 {
			return nil, errAt(line, t.pos, "unbalanced parenthesis in the destinations")
		}
		if err := parseDests(rc, toks[3:j], line); err != nil {
			return nil, err
		}
		rest = j + 1
	case t.kind == tokWord && isHostPort(t.text):
		rc.Dests = []string{t.text}
		rest = 3
	default:
		return nil, errAt(line, t.pos, "destinations go in parentheses, as in run client (node1, 10.0.0.2:32048) COMMAND; without them only one host:port")
	}
	if rest >= len(toks) {
		return nil, errAt(line, len(line), "run client needs a command after the destinations")
	}
	cmdPos := toks[rest].pos
	if relays(toks[rest:]) > maxRelays {
		// Refused before parsing: each level parses the rest of the line
		// again.
		return nil, errAt(line, cmdPos, "run client relays through at most %d nodes (run client (a) run client (b) ...)", maxRelays)
	}
	inner, err := Parse(line[cmdPos:], vars)
	if err != nil {
		if e, ok := err.(*Error); ok {
			if e.Pos >= 0 {
				e.Pos += cmdPos
			}
			e.Line = line
		}
		return nil, err
	}
	if inner == nil {
		return nil, errAt(line, cmdPos, "run client needs a command after the destinations")
	}
	if _, isSQL := inner.(*SQL); !isSQL && len(rc.Dests) == 0 {
		return nil, errAt(line, cmdPos, "run client () needs explicit destinations for non-sql commands")
	}
	// The other nodes do not know this node's variables: Command carries
	// their values, and Inner is parsed from Command so that its offsets
	// (SQL.QueryPos) are offsets in Command.
	cmd, exact := rebuild(toks[rest:], line)
	if !exact {
		if inner, err = Parse(cmd, vars); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail += " (in the command with its variables replaced: " + Redact(cmd) + ")"
				e.Pos, e.Line = -1, line
			}
			return nil, err
		}
	}
	rc.Command, rc.Inner = cmd, inner
	return rc, nil
}

// maxRelays caps how many run clients a run client's command may nest.
const maxRelays = 4

// relays counts the run clients nested at the start of toks, up to
// maxRelays+1.
func relays(toks []token) int {
	n, i := 0, 0
	for n <= maxRelays && i+2 < len(toks) && toks[i].is("run") && toks[i+1].is("client") {
		n++
		i += 2
		if toks[i].kind == tokLParen {
			j := closingParen(toks, i)
			if j < 0 {
				break
			}
			i = j
		}
		i++
	}
	return n
}

// parseDests reads what is inside the parentheses of run client: names or
// host:port addresses separated by commas or blanks, and the options
// `subset = true|false` and `timeout = N [unit]` joined by `and`.
func parseDests(rc *RunClient, inner []token, line string) error {
	i := 0
	for i < len(inner) {
		t := inner[i]
		if i+1 < len(inner) && inner[i+1].kind == tokEq {
			// key = value up to the next `and`.
			j := i + 2
			for j < len(inner) && !inner[j].is("and") {
				j++
			}
			kvs, err := parseKV(inner[i:j], line)
			if err != nil {
				return err
			}
			k := kvs[0]
			switch k.key {
			case "subset":
				b, ok := parseBool(k.value)
				if !ok {
					return notAllowed(k, line)
				}
				rc.Subset = b
			case "timeout":
				d, err := parseDuration(k.value)
				if err != nil || d <= 0 {
					return notAllowed(k, line)
				}
				rc.Timeout = d
			case "dbms", "table":
				return unsupported(line, k.keyPos, "run client (dbms = .. and table = ..): use () to reach every node hosting the table")
			default:
				return unknownKey(k, line)
			}
			i = j
			if i < len(inner) {
				i++ // and
				if i == len(inner) {
					return errAt(line, inner[i-1].pos, "a key must follow `and`")
				}
			}
			continue
		}
		switch {
		case t.is("and") && i > 0 && i+2 < len(inner) && inner[i+2].kind == tokEq:
			i++ // destinations and options
			continue
		case t.kind != tokWord:
			return errAt(line, t.pos, "unexpected %q in the destinations", t.raw)
		case t.is("blockchain") || t.is("where") || t.is("operator") || t.is("query"):
			return unsupported(line, t.pos, "destinations from metadata queries; list node names or host:port, or use () for every node hosting the table")
		case t.is("and"):
			return errAt(line, t.pos, "`and` joins options (subset = true and timeout = 10); separate destinations with commas")
		}
		for _, part := range strings.Split(t.text, ",") {
			if p := strings.TrimSpace(part); p != "" {
				rc.Dests = append(rc.Dests, p)
			}
		}
		i++
	}
	return nil
}
