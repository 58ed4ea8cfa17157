package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables/schema"
)

// RunKafkaConsumer is `run kafka consumer where ...`.
type RunKafkaConsumer struct{ Spec spec.ConsumerSpec }

func (*RunKafkaConsumer) request() {}

const statusStructure = "Error Command Structure"
const statusWrongValue = "Wrong value assigned to a key"
const statusMQTT = "Error with info provided to MQTT"

func parseConsumer(toks []token, line string) (Request, error) {
	// run kafka consumer where ...: EdgeLake wants at least 7 words and
	// `where` as the 4th.
	if len(toks) < 7 || !toks[3].is("where") {
		pos := len(line)
		if len(toks) > 3 {
			pos = toks[3].pos
		}
		return nil, &Error{Status: statusStructure, Detail: "usage: run kafka consumer where ip = [ip] and port = [port] [and reset = latest|earliest] and topic = (name = .. and dbms = .. and table = .. and column.NAME.TYPE = \"bring [..]\")", Pos: pos, Line: line}
	}
	kvs, err := parseKV(toks[4:], line)
	if err != nil {
		return nil, err
	}
	s := spec.ConsumerSpec{Reset: "latest", Threads: 3}
	seen := map[string]bool{}
	for _, k := range kvs {
		if k.key != "topic" && seen[k.key] {
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
		seen[k.key] = true
		if k.key != "topic" && k.isNest {
			return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", k.rawKey), Pos: k.valPos, Line: line}
		}
		switch k.key {
		case "ip":
			s.IP = k.value
		case "port":
			if p, err := strconv.Atoi(k.value); err != nil || p <= 0 || p > 65535 {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not a port number", k.value), Pos: k.valPos, Line: line}
			}
			s.Port = k.value
		case "reset":
			v := strings.ToLower(k.value)
			if v != "latest" && v != "earliest" {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'reset'", k.value), Pos: k.valPos, Line: line}
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
			if !k.isNest {
				return nil, &Error{Status: statusStructure, Detail: "topic takes a list in parentheses: topic = (name = .. and dbms = .. and table = .. and column.NAME.TYPE = \"bring [..]\")", Pos: k.valPos, Line: line}
			}
			t, err := parseTopic(k, line)
			if err != nil {
				return nil, err
			}
			for _, o := range s.Topics {
				if o.Name == t.Name {
					return nil, &Error{Status: statusMQTT, Detail: fmt.Sprintf("MQTT Error: The Topic '%s' is declared twice in this command", t.Name), Pos: k.keyPos, Line: line}
				}
			}
			s.Topics = append(s.Topics, t)
		default:
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s (run kafka consumer takes ip, port, reset, threads, group and topic)", k.rawKey), Pos: k.keyPos, Line: line}
		}
	}
	for _, req := range []struct{ v, name string }{{s.IP, "ip"}, {s.Port, "port"}} {
		if req.v == "" {
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Missing key in AnyLog command: %s", req.name), Pos: -1, Line: line}
		}
	}
	if len(s.Topics) == 0 {
		return nil, &Error{Status: statusStructure, Detail: "Missing key in AnyLog command: topic", Pos: -1, Line: line}
	}
	return &RunKafkaConsumer{Spec: s}, nil
}

func parseTopic(k kv, line string) (spec.TopicSpec, error) {
	var t spec.TopicSpec
	var hasDBMS, hasTable bool
	mqtt := func(pos int, format string, args ...any) error {
		return &Error{Status: statusMQTT, Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
	}
	for _, e := range k.nested {
		switch {
		case e.key == "name":
			t.Name = e.value
		case e.key == "dbms" || e.key == "table":
			x, err := parseInstruction(e.value)
			if err != nil {
				return t, mqtt(e.valPos, "%s: %v", e.key, err)
			}
			if x.Kind == spec.ExprNow {
				return t, mqtt(e.valPos, "%s cannot be now", e.key)
			}
			if x.Kind == spec.ExprLiteral {
				x.Literal = schema.NormalizeName(x.Literal)
				if x.Literal == "" {
					return t, mqtt(e.valPos, "empty %s name", e.key)
				}
			}
			if e.key == "dbms" {
				t.DBMS, hasDBMS = x, true
			} else {
				t.Table, hasTable = x, true
			}
		case e.key == "qos":
			if q, err := strconv.Atoi(e.value); err != nil || q < 0 || q > 2 {
				return t, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'qos' (0, 1 or 2)", e.value), Pos: e.valPos, Line: line}
			}
		case e.key == "errors":
			p, err := parseErrorPolicy(e.value)
			if err != nil {
				return t, &Error{Status: statusWrongValue, Detail: err.Error(), Pos: e.valPos, Line: line}
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
			return t, &Error{Status: "not supported by lakenode", Detail: fmt.Sprintf("%s = ... in a topic (mapping policies, raw persistence and dynamic tables); declare dbms, table and column.NAME.TYPE instead", e.rawKey), Pos: e.keyPos, Line: line}
		default:
			return t, mqtt(e.keyPos, "Unrecognized topic component for MQTT mapping: '%s", e.rawKey)
		}
	}
	switch {
	case t.Name == "":
		return t, mqtt(k.valPos, "Missing topic name")
	case !hasDBMS:
		return t, mqtt(k.valPos, "Missing mapping instruction for DBMS")
	case !hasTable:
		return t, mqtt(k.valPos, "Missing mapping instructions for table")
	case len(t.Columns) == 0:
		return t, mqtt(k.valPos, "Missing mapping instructions for message in topic: %s", t.Name)
	}
	return t, nil
}

func parseErrorPolicy(v string) (spec.ErrorPolicy, error) {
	l := strings.ToLower(strings.TrimSpace(v))
	switch {
	case l == "skip":
		return spec.ErrorPolicy{Kind: spec.ErrorsSkip}, nil
	case l == "table":
		return spec.ErrorPolicy{Kind: spec.ErrorsTable}, nil
	case l == "fail":
		return spec.ErrorPolicy{Kind: spec.ErrorsFail}, nil
	case strings.HasPrefix(l, "dlq:") && len(strings.TrimSpace(v[4:])) > 0:
		return spec.ErrorPolicy{Kind: spec.ErrorsDLQ, DLQTopic: strings.TrimSpace(v[4:])}, nil
	}
	return spec.ErrorPolicy{}, fmt.Errorf("The value '%s' is not allowed for the key 'errors' (skip, table, fail or dlq:TOPIC)", v)
}

func parseColumn(e kv, line string) (spec.ColumnSpec, error) {
	name := e.rawKey[len("column."):]
	c := spec.ColumnSpec{}
	if !e.isNest {
		// column.NAME.TYPE = "instruction"
		dot := strings.LastIndexByte(name, '.')
		if dot <= 0 {
			return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("Wrong column type in MQTT mapping: %s (use column.NAME.TYPE with TYPE str, int, float or timestamp, or column.NAME = (type = .. and value = ..))", e.rawKey), Pos: e.keyPos, Line: line}
		}
		typ, ok := schema.ParseShortType(name[dot+1:])
		if !ok {
			return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("Wrong column type in MQTT mapping: %s", e.rawKey), Pos: e.keyPos, Line: line}
		}
		c.Name, c.Type = schema.NormalizeName(name[:dot]), typ
		x, err := parseInstruction(e.value)
		if err != nil {
			return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("column %s: %v", c.Name, err), Pos: e.valPos, Line: line}
		}
		c.Value = x
		return c, nil
	}
	// column.NAME = (type = .. and value = .. [and optional = true|false])
	c.Name = schema.NormalizeName(name)
	var hasType, hasValue bool
	for _, p := range e.nested {
		switch p.key {
		case "type":
			hasType = true
			x, err := parseInstruction(p.value)
			if err != nil {
				return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("column %s: %v", c.Name, err), Pos: p.valPos, Line: line}
			}
			if x.Kind == spec.ExprBring {
				c.TypeExpr = &x
				continue
			}
			typ, ok := schema.ParseLongType(p.value)
			if !ok {
				return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("Data type '%s' not supported", p.value), Pos: p.valPos, Line: line}
			}
			c.Type = typ
		case "value":
			hasValue = true
			x, err := parseInstruction(p.value)
			if err != nil {
				return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("column %s: %v", c.Name, err), Pos: p.valPos, Line: line}
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
			return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("column %s: unknown key '%s' (type, value, optional)", c.Name, p.rawKey), Pos: p.keyPos, Line: line}
		}
	}
	if !hasType || !hasValue {
		return c, &Error{Status: statusMQTT, Detail: fmt.Sprintf("column %s needs both type = .. and value = ..", c.Name), Pos: e.keyPos, Line: line}
	}
	return c, nil
}
