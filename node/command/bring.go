package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
)

// instrError is a malformed mapping instruction; Off is the byte offset in
// the instruction it points at.
type instrError struct {
	Off int
	Msg string
}

func (e *instrError) Error() string { return e.Msg }

// parseInstruction parses a mapping instruction (surrounding quotes already
// removed): `now`, `bring ...` or `bring.json ...`, or else a literal.
// Expr.Text keeps s as given.
func parseInstruction(s string) (spec.Expr, error) {
	t := strings.TrimSpace(s)
	lead := strings.Index(s, t) // blanks trimmed before t
	low := strings.ToLower(t)
	switch {
	case low == "now" || low == "now()":
		return spec.Expr{Kind: spec.ExprNow, Text: s}, nil
	case strings.HasPrefix(low, "bring.") && !strings.HasPrefix(low, "bring.json"):
		mod, _, _ := strings.Cut(t, " ")
		return spec.Expr{}, &instrError{Off: lead, Msg: fmt.Sprintf("%s: only plain bring (or bring.json) maps a message; the other bring modifiers query policies", mod)}
	case bringPrefix(low) > 0:
		n := bringPrefix(low)
		parts, err := parseBring(t[n:])
		if err != nil {
			if ie, ok := err.(*instrError); ok {
				ie.Off += lead + n
			}
			return spec.Expr{}, err
		}
		return spec.Expr{Kind: spec.ExprBring, Parts: parts, Text: s}, nil
	}
	return spec.Expr{Kind: spec.ExprLiteral, Literal: s, Text: s}, nil
}

// bringPrefix returns the length of a leading `bring` or `bring.json`
// followed by a blank or a `[`, or 0. A lone `bring` is a literal, as in
// EdgeLake.
func bringPrefix(low string) int {
	for _, p := range []string{"bring.json", "bring"} {
		if rest, ok := strings.CutPrefix(low, p); ok && rest != "" && (isBlank(rest[0]) || rest[0] == '[') {
			return len(p)
		}
	}
	return 0
}

// parseBring parses the words of a bring: key paths `[a][b]` with `:`
// alternatives (`[a][b]:[a][c]`), quoted literals (which lose their
// quotes) and bare literal words. Blanks separate words and are not part of
// the result, so `[a] _ [b]` gives the value of a, "_", the value of b.
func parseBring(s string) ([]spec.BringPart, error) {
	var parts []spec.BringPart
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isBlank(c):
			i++
		case c == '[':
			var alts [][]spec.PathStep
			for {
				path, n, err := parsePath(s, i)
				if err != nil {
					return nil, err
				}
				alts = append(alts, path)
				i += n
				if i+1 < len(s) && s[i] == ':' && s[i+1] == '[' {
					i++
					continue
				}
				break
			}
			parts = append(parts, spec.BringPart{Paths: alts})
		case c == ']':
			return nil, &instrError{Off: i, Msg: "a ] without its ["}
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, &instrError{Off: i, Msg: fmt.Sprintf("unterminated %c literal", c)}
			}
			parts = append(parts, spec.BringPart{Literal: s[i+1 : i+1+j]})
			i += j + 2
		default:
			j := i
			for j < len(s) && !isBlank(s[j]) && s[j] != '[' && s[j] != ']' {
				j++
			}
			parts = append(parts, spec.BringPart{Literal: s[i:j]})
			i = j
		}
	}
	return parts, nil
}

// parsePath parses the adjacent brackets that start at s[at] and returns
// the steps and the number of bytes used.
func parsePath(s string, at int) ([]spec.PathStep, int, error) {
	var steps []spec.PathStep
	i := at
	for i < len(s) && s[i] == '[' {
		open := i
		i++
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			j := strings.IndexByte(s[i+1:], q)
			if j < 0 {
				return nil, 0, &instrError{Off: i, Msg: fmt.Sprintf("unterminated %c in a quoted key", q)}
			}
			end := i + 1 + j // the closing quote
			if end+1 >= len(s) || s[end+1] != ']' {
				return nil, 0, &instrError{Off: open, Msg: "a quoted key must be followed by ], as in ['key']"}
			}
			steps = append(steps, spec.PathStep{Key: s[i+1 : end]})
			i = end + 2
			continue
		}
		j := strings.IndexAny(s[i:], "[]")
		if j < 0 || s[i+j] != ']' {
			return nil, 0, &instrError{Off: open, Msg: "missing ] after ["}
		}
		key := s[i : i+j]
		i += j + 1
		switch {
		case key == "":
			steps = append(steps, spec.PathStep{Each: true})
		case key == "*":
			return nil, 0, &instrError{Off: open, Msg: "[*] selects a policy type and has no meaning in a message mapping"}
		default:
			if n, err := strconv.Atoi(key); err == nil && n >= 0 && key[0] >= '0' && key[0] <= '9' {
				steps = append(steps, spec.PathStep{Index: n, IsIndex: true})
			} else {
				steps = append(steps, spec.PathStep{Key: key})
			}
		}
	}
	return steps, i - at, nil
}
