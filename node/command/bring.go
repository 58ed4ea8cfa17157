package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
)

// parseInstruction parses a mapping instruction (quotes already removed):
// `now`, `bring ...` (or `bring.json ...`), or a literal.
func parseInstruction(s string) (spec.Expr, error) {
	t := strings.TrimSpace(s)
	low := strings.ToLower(t)
	switch {
	case low == "now" || low == "now()":
		return spec.Expr{Kind: spec.ExprNow, Text: t}, nil
	case strings.HasPrefix(low, "bring ") || strings.HasPrefix(low, "bring.json ") || strings.HasPrefix(low, "bring[") || low == "bring":
		rest := t[len("bring"):]
		if strings.HasPrefix(strings.ToLower(rest), ".json") {
			rest = rest[len(".json"):]
		}
		parts, err := parseBring(rest)
		if err != nil {
			return spec.Expr{}, err
		}
		if len(parts) == 0 {
			return spec.Expr{}, fmt.Errorf("%q: bring needs at least one key, e.g. bring [timestamp]", t)
		}
		return spec.Expr{Kind: spec.ExprBring, Parts: parts, Text: t}, nil
	}
	return spec.Expr{Kind: spec.ExprLiteral, Literal: s, Text: s}, nil
}

// parseBring parses the words of a bring: key paths `[a][b]` (with `:`
// alternatives), quoted literals, and bare literal words. Blanks separate
// words and are not part of the result.
func parseBring(s string) ([]spec.BringPart, error) {
	var parts []spec.BringPart
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '[':
			var alts [][]spec.PathStep
			for {
				path, n, err := parsePath(s[i:])
				if err != nil {
					return nil, err
				}
				alts = append(alts, path)
				i += n
				if i < len(s) && s[i] == ':' && i+1 < len(s) && s[i+1] == '[' {
					i++
					continue
				}
				break
			}
			parts = append(parts, spec.BringPart{Paths: alts})
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c literal in bring %q", c, s)
			}
			parts = append(parts, spec.BringPart{Literal: s[i+1 : i+1+j]})
			i += j + 2
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '[' {
				j++
			}
			parts = append(parts, spec.BringPart{Literal: s[i:j]})
			i = j
		}
	}
	return parts, nil
}

// parsePath parses adjacent brackets from the start of s and returns the
// steps and the bytes used.
func parsePath(s string) ([]spec.PathStep, int, error) {
	var steps []spec.PathStep
	i := 0
	for i < len(s) && s[i] == '[' {
		i++
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			j := strings.IndexByte(s[i+1:], q)
			if j < 0 || i+1+j+1 >= len(s) || s[i+1+j+1] != ']' {
				return nil, 0, fmt.Errorf("malformed quoted key in %q", s)
			}
			steps = append(steps, spec.PathStep{Key: s[i+1 : i+1+j]})
			i += j + 3
			continue
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			return nil, 0, fmt.Errorf("missing ] in %q", s)
		}
		key := s[i : i+j]
		i += j + 1
		switch {
		case key == "":
			steps = append(steps, spec.PathStep{Each: true})
		case key == "*":
			return nil, 0, fmt.Errorf("[*] selects a policy type and has no meaning in a message mapping")
		default:
			if n, err := strconv.Atoi(key); err == nil && n >= 0 && key[0] != '+' {
				steps = append(steps, spec.PathStep{Index: n, IsIndex: true})
			} else {
				steps = append(steps, spec.PathStep{Key: key})
			}
		}
	}
	if len(steps) == 0 {
		return nil, 0, fmt.Errorf("expected [key] in %q", s)
	}
	return steps, i, nil
}
