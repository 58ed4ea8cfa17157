package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// RunKafkaConsumer is `run kafka consumer where ip = .. and port = .. [and
// reset = latest|earliest] [and threads = N] [and group = NAME] [and the
// TLS and SASL keys of security.go] and topic = (...) [and topic = (...) ...]`.
type RunKafkaConsumer struct{ Spec spec.ConsumerSpec }

func (*RunKafkaConsumer) request() {}

const consumerUsage = `usage: run kafka consumer where ip = [ip] and port = [port] [and reset = latest|earliest] [and threads = N] [and group = NAME] [and tls = true and tls_ca = FILE and tls_cert = FILE and tls_key = FILE and tls_skip_verify = true] [and sasl = plain|scram-sha-256|scram-sha-512 and user = NAME and password = SECRET] and topic = (name = .. and dbms = .. and table = .. and column.NAME.TYPE = "bring [..]")`

func parseConsumer(toks []token, line string) (Request, error) {
	// EdgeLake wants at least 7 words with `where` the 4th.
	if len(toks) < 7 || !toks[3].is("where") {
		pos := len(line)
		if len(toks) > 3 {
			pos = toks[3].pos
		}
		return nil, errAt(line, pos, "%s", consumerUsage)
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	s := spec.ConsumerSpec{Reset: "latest", Threads: 3}
	var sec securityState
	seen := map[string]bool{}
	topicPos := map[string]int{}
	for _, k := range kvs {
		if k.key != "topic" {
			if seen[k.key] {
				return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
			}
			if k.isNest {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", k.key), Pos: k.valPos, Line: line}
			}
		}
		seen[k.key] = true
		switch k.key {
		case "ip":
			s.IP = k.value
		case "port":
			if p, err := strconv.Atoi(k.value); err != nil || p <= 0 || p > 65535 {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'port' (a port number)", k.value), Pos: k.valPos, Line: line}
			}
			s.Port = k.value
		case "reset":
			v := strings.ToLower(k.value)
			if v != "latest" && v != "earliest" {
				return nil, notAllowed(k, line)
			}
			s.Reset = v
		case "threads":
			n, err := strconv.Atoi(k.value)
			if err != nil || n < 1 || n > 64 {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'threads' (1 to 64)", k.value), Pos: k.valPos, Line: line}
			}
			s.Threads = n
		case "group":
			s.Group = k.value
		case "topic":
			if !k.isNest || k.plain {
				return nil, errAt(line, k.valPos, "topic takes a list in parentheses: topic = (name = .. and dbms = .. and table = .. and column.NAME.TYPE = \"bring [..]\")")
			}
			t, err := parseTopic(k, line)
			if err != nil {
				return nil, err
			}
			if _, dup := topicPos[t.Name]; dup {
				return nil, &Error{Status: statusMQTT, Detail: fmt.Sprintf("MQTT Error: The Topic '%s' is declared twice in this command", t.Name), Pos: k.keyPos, Line: line}
			}
			topicPos[t.Name] = k.keyPos
			s.Topics = append(s.Topics, t)
		default:
			if !isSecurityKey(k.key) {
				return nil, unknownKey(k, line)
			}
			if err := sec.add(k, line); err != nil {
				return nil, err
			}
		}
	}
	if s.Security, err = sec.finish(line); err != nil {
		return nil, err
	}
	for _, req := range []struct{ v, name string }{{s.IP, "ip"}, {s.Port, "port"}} {
		if req.v == "" {
			return nil, &Error{Status: statusStructure, Detail: "Missing key in AnyLog command: " + req.name, Pos: -1, Line: line}
		}
	}
	if len(s.Topics) == 0 {
		return nil, &Error{Status: statusStructure, Detail: "Missing key in AnyLog command: topic", Pos: -1, Line: line}
	}
	return &RunKafkaConsumer{Spec: s}, nil
}

// parseTopic parses the list of one `topic = (...)` (reference §1.2).
func parseTopic(k kv, line string) (spec.TopicSpec, error) {
	var t spec.TopicSpec
	mqtt := func(pos int, format string, args ...any) error {
		return &Error{Status: statusMQTT, Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
	}
	seen := map[string]bool{}
	for _, e := range k.nested {
		if !strings.HasPrefix(e.key, "column.") {
			if seen[e.key] {
				return t, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", e.rawKey), Pos: e.keyPos, Line: line}
			}
			seen[e.key] = true
			if e.isNest {
				return t, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", e.key), Pos: e.valPos, Line: line}
			}
		}
		switch {
		case e.key == "name":
			t.Name = e.value
		case e.key == "dbms" || e.key == "table":
			x, err := instruction(e, line)
			if err != nil {
				return t, err
			}
			switch x.Kind {
			case spec.ExprNow:
				return t, mqtt(e.valPos, "%s cannot be now", e.key)
			case spec.ExprLiteral:
				x.Literal = schema.NormalizeName(x.Literal)
				if x.Literal == "" {
					return t, mqtt(e.valPos, "empty %s name", e.key)
				}
			}
			if e.key == "dbms" {
				t.DBMS = x
			} else {
				t.Table = x
			}
		case e.key == "qos":
			if q, err := strconv.Atoi(e.value); err != nil || q < 0 || q > 2 {
				return t, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'qos' (0, 1 or 2)", e.value), Pos: e.valPos, Line: line}
			}
		case e.key == "errors":
			p, ok := parseErrorPolicy(e.value)
			if !ok {
				return t, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'errors' (skip, table, fail or dlq:TOPIC)", e.value), Pos: e.valPos, Line: line}
			}
			t.Errors = p
		case strings.HasPrefix(e.key, "column."):
			c, err := parseColumn(e, line)
			if err != nil {
				return t, err
			}
			for _, o := range t.Columns {
				if o.Name == c.Name {
					return t, mqtt(e.keyPos, "column %s is declared twice in topic %s", c.Name, t.Name)
				}
			}
			t.Columns = append(t.Columns, c)
		case e.key == "policy" || e.key == "persist" || e.key == "dynamic":
			return t, unsupported(line, e.keyPos, "%s = ... in a topic (mapping policies, raw persistence and dynamic tables); declare dbms, table and column.NAME.TYPE instead", e.key)
		default:
			return t, mqtt(e.keyPos, "Unrecognized topic component for MQTT mapping: '%s'", e.rawKey)
		}
	}
	switch {
	case t.Name == "":
		return t, mqtt(k.valPos, "Missing topic name")
	case !seen["dbms"]:
		return t, mqtt(k.valPos, "Missing mapping instruction for DBMS")
	case !seen["table"]:
		return t, mqtt(k.valPos, "Missing mapping instructions for table")
	case len(t.Columns) == 0:
		return t, mqtt(k.valPos, "Missing mapping instructions for message in topic: %s", t.Name)
	}
	return t, nil
}

// instruction parses the value of k as a mapping instruction. A literal of
// several unquoted words is the words joined by single blanks, as EdgeLake
// joins them.
func instruction(k kv, line string) (spec.Expr, error) {
	text, base := k.instruction()
	if !k.quoted && (strings.HasPrefix(text, `"`) || strings.HasPrefix(text, "'")) {
		return spec.Expr{}, &Error{Status: statusMQTT, Detail: fmt.Sprintf("%s = %s: write the instruction as one quoted string", k.key, text), Pos: k.valPos, Line: line}
	}
	x, err := parseInstruction(text)
	if err != nil {
		pos := k.valPos
		if ie, ok := err.(*instrError); ok && base >= 0 {
			pos = base + ie.Off
		}
		return x, &Error{Status: statusMQTT, Detail: fmt.Sprintf("%s = %s: %v", k.key, strings.TrimSpace(text), err), Pos: pos, Line: line}
	}
	if x.Kind == spec.ExprLiteral && !k.quoted {
		x.Literal, x.Text = k.value, k.value
	}
	return x, nil
}

// parseErrorPolicy reads `errors = skip|table|fail|dlq:TOPIC`.
func parseErrorPolicy(v string) (spec.ErrorPolicy, bool) {
	l := strings.ToLower(strings.TrimSpace(v))
	switch l {
	case "skip":
		return spec.ErrorPolicy{Kind: spec.ErrorsSkip}, true
	case "table":
		return spec.ErrorPolicy{Kind: spec.ErrorsTable}, true
	case "fail":
		return spec.ErrorPolicy{Kind: spec.ErrorsFail}, true
	}
	if strings.HasPrefix(l, "dlq:") {
		if topic := strings.TrimSpace(strings.TrimSpace(v)[len("dlq:"):]); topic != "" && !strings.ContainsAny(topic, " \t") {
			return spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: topic}, true
		}
	}
	return spec.ErrorPolicy{}, false
}

// parseColumn parses `column.NAME.TYPE = "instruction"` or
// `column.NAME = (type = .. and value = .. [and optional = true|false])`.
func parseColumn(e kv, line string) (spec.ColumnSpec, error) {
	name := e.rawKey[len("column."):]
	c := spec.ColumnSpec{}
	mqtt := func(pos int, format string, args ...any) error {
		return &Error{Status: statusMQTT, Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
	}
	if !e.isNest {
		dot := strings.LastIndexByte(name, '.')
		if dot < 0 {
			return c, mqtt(e.keyPos, "Wrong column type in MQTT mapping: %s (use column.NAME.TYPE with TYPE str, int, float or timestamp, or column.NAME = (type = .. and value = ..))", e.rawKey)
		}
		typ, ok := schema.ParseShortType(name[dot+1:])
		if !ok {
			return c, mqtt(e.keyPos, "Wrong column type in MQTT mapping: %s", e.rawKey)
		}
		c.Name, c.Type = schema.NormalizeName(name[:dot]), typ
		if c.Name == "" {
			return c, mqtt(e.keyPos, "Missing column name in MQTT mapping: %s", e.rawKey)
		}
		x, err := instruction(e, line)
		if err != nil {
			return c, err
		}
		c.Value = x
		return c, nil
	}
	c.Name = schema.NormalizeName(name)
	if c.Name == "" {
		return c, mqtt(e.keyPos, "Missing column name in MQTT mapping: %s", e.rawKey)
	}
	if strings.Contains(name, ".") {
		return c, mqtt(e.valPos, "%s: the short form column.NAME.TYPE takes an instruction, not a list; the long form is column.NAME = (type = .. and value = ..)", e.rawKey)
	}
	if e.plain {
		return c, mqtt(e.valPos, "%s takes (type = .. and value = .. [and optional = true|false])", e.rawKey)
	}
	seen := map[string]bool{}
	for _, p := range e.nested {
		if seen[p.key] {
			return c, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", p.rawKey), Pos: p.keyPos, Line: line}
		}
		seen[p.key] = true
		if p.isNest {
			return c, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", p.key), Pos: p.valPos, Line: line}
		}
		switch p.key {
		case "type":
			x, err := instruction(p, line)
			if err != nil {
				return c, err
			}
			if x.Kind == spec.ExprBring {
				c.TypeExpr = &x
				continue
			}
			typ, ok := schema.ParseLongType(p.value)
			if !ok {
				return c, mqtt(p.valPos, "Data type '%s' not supported", p.value)
			}
			c.Type = typ
		case "value":
			x, err := instruction(p, line)
			if err != nil {
				return c, err
			}
			c.Value = x
		case "optional":
			switch strings.ToLower(p.value) {
			case "true":
				c.Optional = true
			case "false":
			default:
				return c, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'optional' (true or false)", p.value), Pos: p.valPos, Line: line}
			}
		default:
			return c, mqtt(p.keyPos, "Unrecognized column component for MQTT mapping: '%s' (type, value, optional)", p.rawKey)
		}
	}
	if !seen["type"] || !seen["value"] {
		return c, mqtt(e.keyPos, "column %s needs both type = .. and value = ..", c.Name)
	}
	return c, nil
}
