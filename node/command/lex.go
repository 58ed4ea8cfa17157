// Package command parses EdgeLake's command language into typed requests:
// words, `key = value and ...` lists with nested `( ... )`, quoted strings,
// `!var` substitution, the mapping instructions of `run kafka consumer`, and
// scripts with `#` comments and `< ... >` blocks.
//
// It is pure: no I/O beyond reading a script, no actors, no storage.
package command

import (
	"fmt"
	"strings"
)

// tokKind is a lexical token kind.
type tokKind uint8

const (
	tokWord   tokKind = iota // a bare word
	tokString                // a quoted string
	tokLParen
	tokRParen
	tokEq
)

// token is one lexical token with its byte offset in the line.
type token struct {
	kind  tokKind
	text  string // the word, or the string without its quotes
	raw   string // as written
	pos   int
	quote byte // ' or " for strings
}

func (t token) is(word string) bool { return t.kind == tokWord && strings.EqualFold(t.text, word) }

// lex splits a line into tokens. `(`, `)` and `=` are tokens of their own
// outside quotes.
func lex(line string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", raw: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", raw: ")", pos: i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokEq, text: "=", raw: "=", pos: i})
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, &Error{Status: "Error Command Structure", Detail: fmt.Sprintf("unterminated %c string", c), Pos: i, Line: line}
			}
			end := i + 1 + j
			toks = append(toks, token{kind: tokString, text: line[i+1 : end], raw: line[i : end+1], pos: i, quote: c})
			i = end + 1
		default:
			j := i
			for j < len(line) {
				d := line[j]
				if d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')' || d == '=' || d == '"' || d == '\'' {
					break
				}
				j++
			}
			// A bracket path such as [a][b] may contain quotes: keep it whole.
			if j < len(line) && (line[j] == '"' || line[j] == '\'') && strings.Contains(line[i:j], "[") && !strings.Contains(line[i:j], "]") {
				k := strings.IndexByte(line[j:], ']')
				if k > 0 {
					j += k + 1
					for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != ')' && line[j] != '=' {
						j++
					}
				}
			}
			toks = append(toks, token{kind: tokWord, text: line[i:j], raw: line[i:j], pos: i})
			i = j
		}
	}
	return toks, nil
}

// kv is one `key = value` of a list; a nested list when value was `( ... )`.
type kv struct {
	key    string // lower case
	rawKey string
	keyPos int
	value  string // words joined with single spaces (quotes removed)
	raw    string // the value as written
	quoted bool   // the value was one quoted string
	valPos int
	nested []kv
	isNest bool
}

// parseKV parses `key = value [and key = value ...]` from toks. A value is
// a nested list in parentheses or the words up to the next `and` that is
// followed by `word =`.
func parseKV(toks []token, line string) ([]kv, error) {
	var out []kv
	i := 0
	for i < len(toks) {
		if toks[i].kind != tokWord && toks[i].kind != tokString {
			return nil, errAt(line, toks[i].pos, "expected a key, found %q", toks[i].raw)
		}
		k := kv{key: strings.ToLower(toks[i].text), rawKey: toks[i].text, keyPos: toks[i].pos}
		if i+1 >= len(toks) || toks[i+1].kind != tokEq {
			return nil, errAt(line, toks[i].pos, "expected `%s = value`", toks[i].text)
		}
		i += 2
		if i >= len(toks) {
			return nil, errAt(line, len(line), "missing value for key %q", k.rawKey)
		}
		k.valPos = toks[i].pos
		if toks[i].kind == tokLParen {
			j := closingParen(toks, i)
			if j < 0 {
				return nil, errAt(line, toks[i].pos, "unbalanced parenthesis in the value of %q", k.rawKey)
			}
			inner := toks[i+1 : j]
			k.isNest = true
			k.raw = line[toks[i].pos : toks[j].pos+1]
			if len(inner) > 0 {
				nested, err := parseKV(inner, line)
				if err != nil {
					return nil, err
				}
				k.nested = nested
			}
			i = j + 1
		} else {
			start := i
			var words []string
			for i < len(toks) {
				t := toks[i]
				if t.is("and") && i+2 < len(toks) && (toks[i+1].kind == tokWord || toks[i+1].kind == tokString) && toks[i+2].kind == tokEq {
					break
				}
				if t.kind == tokLParen || t.kind == tokRParen || t.kind == tokEq {
					return nil, errAt(line, t.pos, "unexpected %q in the value of %q", t.raw, k.rawKey)
				}
				words = append(words, t.text)
				i++
			}
			if len(words) == 0 {
				return nil, errAt(line, toks[start].pos, "missing value for key %q", k.rawKey)
			}
			k.value = strings.Join(words, " ")
			last := toks[i-1]
			k.raw = line[toks[start].pos : last.pos+len(last.raw)]
			k.quoted = i-start == 1 && toks[start].kind == tokString
		}
		out = append(out, k)
		if i < len(toks) {
			if !toks[i].is("and") {
				return nil, errAt(line, toks[i].pos, "expected `and`, found %q", toks[i].raw)
			}
			i++
			if i >= len(toks) {
				return nil, errAt(line, len(line), "a key must follow `and`")
			}
		}
	}
	return out, nil
}

// substitute replaces `!name` words from vars. Quoted strings are left as
// they are.
func substitute(toks []token, vars map[string]string, line string) ([]token, error) {
	for i, t := range toks {
		if t.kind != tokWord || len(t.text) < 2 || t.text[0] != '!' {
			continue
		}
		name := t.text[1:]
		v, ok := vars[name]
		if !ok {
			return nil, errAt(line, t.pos, "unknown variable !%s (assign it with `%s = value`)", name, name)
		}
		toks[i].text = v
	}
	return toks, nil
}

// closingParen returns the index of the `)` that closes the `(` at toks[i],
// or -1.
func closingParen(toks []token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].kind {
		case tokLParen:
			depth++
		case tokRParen:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}
