package command

import (
	"slices"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
)

// secretKeys are the keys whose values are never shown: in the error log,
// `get scheduler`, logs, errors and the shell's history they read ***.
var secretKeys = []string{"password"}

// span is a byte range [start, end) of a line.
type span struct{ start, end int }

// Redact returns line with the value of every secret key (`password =
// ...`) replaced by ***. A `$LAKENODE_NAME` value names a variable, not a
// secret, and is kept. It works on any text: quoted values, values of
// several words, `< ... >` blocks over several lines, nested lists, and a
// line the parser refuses (an unterminated quote hides the rest of the
// line).
func Redact(line string) string {
	out, _ := redactSpans(line)
	return out
}

// redactSpans returns the redacted line and the spans of line it replaced,
// in order.
func redactSpans(line string) (string, []span) {
	spans := secretSpans(line)
	if len(spans) == 0 {
		return line, nil
	}
	var b strings.Builder
	at := 0
	for _, s := range spans {
		b.WriteString(line[at:s.start])
		b.WriteString(spec.Redacted)
		at = s.end
	}
	b.WriteString(line[at:])
	return b.String(), spans
}

// redactPos maps an offset in line to the redacted line of spans.
func redactPos(pos int, spans []span) int {
	shift := 0
	for _, s := range spans {
		switch {
		case pos >= s.end:
			shift += (s.end - s.start) - len(spec.Redacted)
		case pos >= s.start:
			return s.start - shift
		}
	}
	return pos - shift
}

func isSecretKey(t token) bool {
	return t.isValue() && slices.Contains(secretKeys, strings.ToLower(t.text))
}

func secretSpans(line string) []span {
	toks, err := lex(line)
	if err != nil {
		return fallbackSpans(line)
	}
	var out []span
	for i := 0; i+2 < len(toks); i++ {
		if !isSecretKey(toks[i]) || toks[i+1].kind != tokEq {
			continue
		}
		start := i + 2
		end := start
		if toks[start].kind == tokLParen {
			j := closingParen(toks, start)
			if j < 0 {
				j = len(toks) - 1
			}
			end = j + 1
		} else {
			depth := 0
		value:
			for end < len(toks) {
				t := toks[end]
				switch {
				case depth == 0 && end > start && t.is("and") && end+2 < len(toks) && toks[end+1].isValue() && toks[end+2].kind == tokEq:
					break value
				case t.kind == tokLParen:
					depth++
				case t.kind == tokRParen:
					if depth == 0 {
						break value
					}
					depth--
				case t.kind == tokEq && depth == 0 && end > start:
					// `password = a b = c`: stop before the key of a
					// malformed next pair.
					end--
					break value
				}
				end++
			}
			if end <= start {
				end = start + 1
			}
		}
		first, last := toks[start], toks[end-1]
		if end == start+1 && first.kind == tokWord && CheckEnvName(first.text) == nil {
			i = end - 1
			continue
		}
		out = append(out, span{first.pos, last.pos + len(last.raw)})
		i = end - 1
	}
	return out
}

// fallbackSpans redacts, in a line that does not lex, everything after the
// first `password =`.
func fallbackSpans(line string) []span {
	low := strings.ToLower(line)
	for _, k := range secretKeys {
		for from := 0; ; {
			i := strings.Index(low[from:], k)
			if i < 0 {
				break
			}
			j := from + i + len(k)
			for j < len(line) && isBlank(line[j]) {
				j++
			}
			if j < len(line) && line[j] == '=' {
				j++
				for j < len(line) && isBlank(line[j]) {
					j++
				}
				if j < len(line) {
					return []span{{j, len(line)}}
				}
			}
			from = from + i + len(k)
		}
	}
	return nil
}
