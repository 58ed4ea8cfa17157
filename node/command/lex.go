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
	text  string // the word, the string without its quotes, or a !name's value
	raw   string // as written
	pos   int
	quote byte // ' or " for strings
	subst bool // text is the value of the !name in raw
}

func (t token) is(word string) bool { return t.kind == tokWord && strings.EqualFold(t.text, word) }

// isValue reports whether t can be a key or a value word.
func (t token) isValue() bool { return t.kind == tokWord || t.kind == tokString }

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lex splits a line into tokens. `(`, `)` and `=` are tokens of their own
// outside quotes. Inside the brackets of a bring path (`['key with blanks']`)
// quotes belong to the word.
func lex(line string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case isBlank(c):
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
				return nil, errAt(line, i, "unterminated %c string", c)
			}
			end := i + 1 + j
			toks = append(toks, token{kind: tokString, text: line[i+1 : end], raw: line[i : end+1], pos: i, quote: c})
			i = end + 1
		default:
			j := wordEnd(line, i)
			toks = append(toks, token{kind: tokWord, text: line[i:j], raw: line[i:j], pos: i})
			i = j
		}
	}
	return toks, nil
}

// wordEnd returns the end of the bare word starting at i. A quote ends the
// word unless it opens a quoted key inside an open `[`, as in
// `[a]['key with blanks']`; then it runs to its closing quote.
func wordEnd(line string, i int) int {
	depth := 0
	j := i
	for j < len(line) {
		d := line[j]
		switch {
		case d == '[':
			depth++
		case d == ']':
			if depth > 0 {
				depth--
			}
		case d == '"' || d == '\'':
			if depth == 0 {
				return j
			}
			k := strings.IndexByte(line[j+1:], d)
			if k < 0 {
				return j
			}
			j += k + 2
			continue
		case isBlank(d) || d == '(' || d == ')' || d == '=':
			return j
		}
		j++
	}
	return j
}

// kv is one `key = value` of a list; a nested list when value was `( ... )`.
type kv struct {
	key    string // lower case
	rawKey string
	keyPos int
	value  string // the words joined with single blanks, quotes removed (joinWords)
	src    string // the value as written, with !names replaced
	exact  bool   // src is exactly the line's text at valPos (no !name replaced)
	quoted bool   // the value was one quoted string
	valPos int
	nested []kv
	isNest bool
	plain  bool // a nested list that is not `key = value ...` (nested is empty)
}

// instruction returns the text of a mapping instruction and the offset in
// the line of its first byte, or -1 when offsets in it cannot be mapped
// back to the line. A single quoted word loses its quotes; several words
// are taken as written, so quoted literals inside a bring keep theirs.
func (k kv) instruction() (string, int) {
	switch {
	case k.quoted:
		return k.value, k.valPos + 1
	case k.exact:
		return k.src, k.valPos
	}
	return k.src, -1
}

// parseKV parses `key = value [and key = value ...]` from toks. A value is
// a nested list in parentheses or the words up to the next `and` that is
// followed by `word =`; inside a value, parentheses must balance and `=`
// may appear only between them, as in `now()` or `char(8)`.
func parseKV(toks []token, line string) ([]kv, error) { return parseKVDepth(toks, line, 0) }

// maxListDepth caps how deep `key = (key = (...))` lists nest (EdgeLake's
// deepest, a column inside a topic, is 2): each level looks for its closing
// parenthesis again, so the cap keeps a long line's parse linear.
const maxListDepth = 16

func parseKVDepth(toks []token, line string, depth int) ([]kv, error) {
	var out []kv
	i := 0
	for i < len(toks) {
		if !toks[i].isValue() {
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
			k.src = line[toks[i].pos : toks[j].pos+1]
			switch {
			case len(inner) == 0:
			case len(inner) < 2 || !inner[0].isValue() || inner[1].kind != tokEq:
				// A plain list such as include = (t1, t2): kept as src.
				k.plain = true
			default:
				if depth+1 >= maxListDepth {
					return nil, errAt(line, toks[i].pos, "lists nest deeper than %d levels", maxListDepth)
				}
				nested, err := parseKVDepth(inner, line, depth+1)
				if err != nil {
					return nil, err
				}
				k.nested = nested
			}
			i = j + 1
		} else {
			start, depth := i, 0
			for i < len(toks) {
				t := toks[i]
				if depth == 0 && t.is("and") && i > start {
					if i+2 < len(toks) && toks[i+1].isValue() && toks[i+2].kind == tokEq {
						break
					}
					if i == len(toks)-1 {
						return nil, errAt(line, len(line), "a key must follow `and`")
					}
				}
				switch t.kind {
				case tokLParen:
					depth++
				case tokRParen:
					if depth == 0 {
						return nil, errAt(line, t.pos, "unexpected %q in the value of %q", t.raw, k.rawKey)
					}
					depth--
				case tokEq:
					if depth == 0 {
						return nil, errAt(line, t.pos, "unexpected %q in the value of %q", t.raw, k.rawKey)
					}
				}
				i++
			}
			if depth > 0 {
				return nil, errAt(line, toks[start].pos, "unbalanced parenthesis in the value of %q", k.rawKey)
			}
			k.value = joinWords(toks[start:i])
			k.src, k.exact = rebuild(toks[start:i], line)
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

// joinWords returns the text of toks, quotes removed and !names replaced,
// with one blank where the line has blanks between two tokens: EdgeLake
// joins the words of a value with single blanks, and `now()` stays whole.
func joinWords(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			prev := toks[i-1]
			if t.pos > prev.pos+len(prev.raw) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// rebuild returns the text of toks as written in line, blanks included,
// with the value of every replaced !name instead of the name; exact
// reports that nothing was replaced.
func rebuild(toks []token, line string) (text string, exact bool) {
	if len(toks) == 0 {
		return "", true
	}
	exact = true
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			prev := toks[i-1]
			b.WriteString(line[prev.pos+len(prev.raw) : t.pos])
		}
		if t.subst {
			b.WriteString(t.text)
			exact = false
		} else {
			b.WriteString(t.raw)
		}
	}
	return b.String(), exact
}

// substitute replaces `!name` words from vars, in place. Quoted strings
// are left as they are; a lone `!` (as in `a != b`) is not a name.
func substitute(toks []token, vars map[string]string, line string) error {
	for i, t := range toks {
		if t.kind != tokWord || len(t.text) < 2 || t.text[0] != '!' {
			continue
		}
		name := t.text[1:]
		v, ok := vars[name]
		if !ok {
			return errAt(line, t.pos, "unknown variable !%s (assign it with `%s = value`)", name, name)
		}
		toks[i].text, toks[i].subst = v, true
	}
	return nil
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

// unknownKey is EdgeLake's error for a key a command does not take.
func unknownKey(k kv, line string) *Error {
	return &Error{Status: statusStructure, Detail: fmt.Sprintf("Unknown key in AnyLog command: %s", k.rawKey), Pos: k.keyPos, Line: line}
}

// notAllowed is EdgeLake's error for a value a key does not take.
func notAllowed(k kv, line string) *Error {
	return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key '%s'", k.value, k.key), Pos: k.valPos, Line: line}
}
