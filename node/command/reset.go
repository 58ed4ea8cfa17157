package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
)

// ResetOffsets is `reset offsets where topic = T [and group = G] and to =
// earliest|latest|N [and ip = .. and port = .. and the TLS and SASL keys]`:
// move every partition of T to its log start, its end or offset N, in the
// node's stored positions and in the group's committed offsets. Without ip
// and port the broker, security settings and group are those of the last
// consumer of T this node ran.
type ResetOffsets struct {
	Topic            string
	Group            string // "" for the consumer's
	Earliest, Latest bool
	Offset           int64 // when neither Earliest nor Latest
	IP, Port         string
	Security         spec.Security
}

func (*ResetOffsets) request() {}

// Broker is "ip:port", or "" when the command names none.
func (r *ResetOffsets) Broker() string {
	if r.IP == "" {
		return ""
	}
	return r.IP + ":" + r.Port
}

// To is the target as written: earliest, latest or the offset.
func (r *ResetOffsets) To() string {
	switch {
	case r.Earliest:
		return "earliest"
	case r.Latest:
		return "latest"
	}
	return strconv.FormatInt(r.Offset, 10)
}

const resetUsage = "usage: reset offsets where topic = TOPIC [and group = NAME] and to = earliest|latest|OFFSET [and ip = IP and port = PORT and the consumer's tls and sasl keys]"

func parseResetOffsets(toks []token, line string) (Request, error) {
	if len(toks) < 6 || !toks[2].is("where") {
		return nil, errAt(line, len(line), "%s", resetUsage)
	}
	kvs, err := parseKV(toks[3:], line)
	if err != nil {
		return nil, err
	}
	r := &ResetOffsets{}
	var sec securityState
	seen := map[string]bool{}
	hasTo := false
	for _, k := range kvs {
		if seen[k.key] {
			return nil, &Error{Status: statusStructure, Detail: fmt.Sprintf("Duplicate key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
		}
		seen[k.key] = true
		if k.isNest {
			return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The key '%s' takes a value, not a list", k.key), Pos: k.valPos, Line: line}
		}
		switch k.key {
		case "topic":
			r.Topic = k.value
		case "group":
			r.Group = k.value
		case "to":
			hasTo = true
			switch v := strings.ToLower(k.value); v {
			case "earliest":
				r.Earliest = true
			case "latest":
				r.Latest = true
			default:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'to' (earliest, latest or an offset)", k.value), Pos: k.valPos, Line: line}
				}
				r.Offset = n
			}
		case "ip":
			r.IP = k.value
		case "port":
			if p, err := strconv.Atoi(k.value); err != nil || p <= 0 || p > 65535 {
				return nil, &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'port' (a port number)", k.value), Pos: k.valPos, Line: line}
			}
			r.Port = k.value
		default:
			if !isSecurityKey(k.key) {
				return nil, unknownKey(k, line)
			}
			if err := sec.add(k, line); err != nil {
				return nil, err
			}
		}
	}
	if r.Security, err = sec.finish(line); err != nil {
		return nil, err
	}
	if r.Topic == "" || !hasTo {
		return nil, errAt(line, len(line), "%s", resetUsage)
	}
	if (r.IP == "") != (r.Port == "") || (r.IP == "" && sec.seen != nil) {
		return nil, errAt(line, len(line), "reset offsets: ip and port go together, and tls or sasl keys need them; without them the node uses the broker and keys of the last consumer of the topic it ran")
	}
	return r, nil
}
