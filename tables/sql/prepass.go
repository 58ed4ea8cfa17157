package sql

import (
	"fmt"
	"strings"
	"unicode"
)

// edit is one change the pre-pass made: at byte pos of the rewritten text,
// n bytes replace n-delta bytes of the original (delta negative: bytes
// removed).
type edit struct{ pos, n, delta int }

// rewritten is the statement after the pre-pass.
type rewritten struct {
	text    string
	edits   []edit
	notices []string
	// deepAt is the offset of the first parenthesis nested deeper than
	// MaxDepth (-1: none); the statement is not rewritten then.
	deepAt int
}

// origPos maps a position in the rewritten text back to the original; a
// position inside a replacement maps to the start of the text it replaced,
// so that the mapping never goes backwards.
func (r *rewritten) origPos(p int) int {
	o := p
	for _, e := range r.edits {
		switch {
		case p <= e.pos:
		case p >= e.pos+e.n:
			o -= e.delta
		default:
			o -= p - e.pos
		}
	}
	return max(o, 0)
}

type ptok struct {
	text     string
	pos      int
	isWord   bool
	isNumber bool
	isString bool
}

// ptokens splits a statement into words, numbers, strings and single
// punctuation characters (blanks dropped), keeping offsets.
func ptokens(s string) []ptok {
	var out []ptok
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(s) {
				if s[j] == byte(c) {
					if j+1 < len(s) && s[j+1] == byte(c) {
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(s))
			out = append(out, ptok{text: s[i:end], pos: i, isString: c != '`', isWord: c == '`'})
			i = end
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] >= 0x80) {
				j++
			}
			out = append(out, ptok{text: s[i:j], pos: i, isWord: true})
			i = j
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(s) && unicode.IsDigit(rune(s[i+1]))):
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '+' || s[j] == '-') && j > i && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			out = append(out, ptok{text: s[i:j], pos: i, isNumber: true})
			i = j
		case c == ':' && i+1 < len(s) && s[i+1] == ':':
			out = append(out, ptok{text: "::", pos: i})
			i += 2
		default:
			out = append(out, ptok{text: s[i : i+1], pos: i})
			i++
		}
	}
	return out
}

var units = map[string]string{
	"second": "second", "seconds": "second", "sec": "second", "secs": "second", "s": "second",
	"minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute", "t": "minute",
	"hour": "hour", "hours": "hour", "h": "hour",
	"day": "day", "days": "day", "d": "day",
	"week": "week", "weeks": "week", "w": "week",
	"month": "month", "months": "month", "m": "month",
	"year": "year", "years": "year", "y": "year",
}

// prepass turns EdgeLake's forms into what the MySQL-dialect parser takes:
// `now() - 1 day` and `interval '1 day'` into `interval 1 day`, `x::int` and
// `x::float` casts into functions, and drops a stray comma before FROM
// (with a notice).
func prepass(q string) rewritten {
	r := rewritten{text: q, deepAt: -1}
	toks := ptokens(q)
	if at := tooDeep(toks); at >= 0 {
		r.deepAt = at
		return r
	}
	var repls []repl
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		low := strings.ToLower(t.text)
		switch {
		// , FROM  ->  FROM
		case t.text == "," && i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "from"):
			repls = append(repls, repl{t.pos, t.pos + 1, ""})
			r.notices = append(r.notices, fmt.Sprintf("removed the comma before FROM at position %d", t.pos))
		// +|- N unit  ->  +|- interval N unit
		case (t.text == "-" || t.text == "+") && i+2 < len(toks) && toks[i+1].isNumber && toks[i+2].isWord && len(toks[i+2].text) > 1 &&
			units[strings.ToLower(toks[i+2].text)] != "" && !(i > 0 && strings.EqualFold(toks[i-1].text, "interval")):
			u := units[strings.ToLower(toks[i+2].text)]
			repls = append(repls, repl{toks[i+1].pos, toks[i+2].pos + len(toks[i+2].text), "interval " + toks[i+1].text + " " + u})
			i += 2
		// -3d, -4t: a number glued to a unit letter
		case (t.text == "-" || t.text == "+") && i+1 < len(toks) && toks[i+1].isNumber && i+2 < len(toks) && toks[i+2].isWord && toks[i+2].pos == toks[i+1].pos+len(toks[i+1].text) && units[strings.ToLower(toks[i+2].text)] != "":
			u := units[strings.ToLower(toks[i+2].text)]
			repls = append(repls, repl{toks[i+1].pos, toks[i+2].pos + len(toks[i+2].text), "interval " + toks[i+1].text + " " + u})
			i += 2
		// partition and offset, columns of lakenode.kafka_errors, are
		// reserved words of the MySQL dialect: quote them, except offset
		// in LIMIT n OFFSET m.
		case t.isWord && t.text[0] != '`' && (low == "partition" ||
			low == "offset" && !(i >= 2 && toks[i-1].isNumber && strings.EqualFold(toks[i-2].text, "limit"))):
			repls = append(repls, repl{t.pos, t.pos + len(t.text), "`" + t.text + "`"})
		// extract(epoch from x)  ->  __epoch(x), PostgreSQL's seconds since
		// the epoch (MySQL's EXTRACT has no such unit).
		case low == "extract" && t.isWord && i+3 < len(toks) && toks[i+1].text == "(" && strings.EqualFold(toks[i+2].text, "epoch") && strings.EqualFold(toks[i+3].text, "from"):
			repls = append(repls, repl{t.pos, toks[i+3].pos + len(toks[i+3].text), "__epoch("})
			i += 3
		// range(x) is EdgeLake's max - min; RANGE is reserved in MySQL.
		case low == "range" && t.isWord && i+1 < len(toks) && toks[i+1].text == "(":
			repls = append(repls, repl{t.pos, t.pos + len(t.text), "__range"})
		// interval '1 day'  ->  interval 1 day
		case low == "interval" && i+1 < len(toks) && toks[i+1].isString:
			inner := strings.Fields(strings.Trim(toks[i+1].text, `'"`))
			if len(inner) == 2 && units[strings.ToLower(inner[1])] != "" {
				repls = append(repls, repl{toks[i+1].pos, toks[i+1].pos + len(toks[i+1].text), inner[0] + " " + units[strings.ToLower(inner[1])]})
				i++
			}
		// operand::type  ->  __cast_type(operand)
		case t.text == "::" && i+1 < len(toks) && toks[i+1].isWord && i > 0:
			if rp, last, ok := castRepl(q, toks, i); ok {
				repls = append(repls, rp)
				i = last
			}
		}
	}
	r.edits, r.text = applyRepls(q, repls)
	return r
}

// repl replaces q[from:to] with with.
type repl struct {
	from, to int
	with     string
}

// tooDeep returns the position of the first parenthesis nested deeper than
// MaxDepth, or -1.
func tooDeep(toks []ptok) int {
	d := 0
	for _, t := range toks {
		switch t.text {
		case "(":
			d++
			if d > MaxDepth {
				return t.pos
			}
		case ")":
			d--
		}
	}
	return -1
}

// castTypes maps the types of operand::type to the cast functions.
var castTypes = map[string]string{
	"int": "__cast_int", "integer": "__cast_int", "bigint": "__cast_int",
	"float": "__cast_float", "double": "__cast_float", "real": "__cast_float", "numeric": "__cast_float", "decimal": "__cast_float",
	"str": "__cast_str", "string": "__cast_str", "text": "__cast_str", "varchar": "__cast_str",
	"timestamp": "__cast_timestamp",
}

// castRepl rewrites operand::type, toks[i] being the ::, into
// __cast_type(operand); last is the index of the last token it covers. ok
// is false for an unknown type or a missing operand.
func castRepl(q string, toks []ptok, i int) (rp repl, last int, ok bool) {
	fn := castTypes[strings.ToLower(toks[i+1].text)]
	if fn == "" {
		return repl{}, 0, false
	}
	// The operand: a parenthesised group (with a function name
	// before it), or one token.
	j := i - 1
	if toks[j].text == ")" {
		depth := 0
		for ; j >= 0; j-- {
			if toks[j].text == ")" {
				depth++
			} else if toks[j].text == "(" {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if j > 0 && toks[j-1].isWord {
			j--
		}
	}
	if j < 0 {
		return repl{}, 0, false
	}
	end := toks[i+1].pos + len(toks[i+1].text)
	// Skip a precision such as ::float(2).
	k := i + 2
	if k+2 < len(toks) && toks[k].text == "(" && toks[k+1].isNumber && toks[k+2].text == ")" {
		end = toks[k+2].pos + 1
		k += 3
	}
	operand := q[toks[j].pos:toks[i].pos]
	return repl{toks[j].pos, end, fn + "(" + strings.TrimSpace(operand) + ")"}, k - 1, true
}

// applyRepls applies repls, in order of position, to q, dropping those
// that overlap an earlier one; it returns the edits made and the new text.
func applyRepls(q string, repls []repl) ([]edit, string) {
	var b strings.Builder
	var edits []edit
	last := 0
	applied := repls[:0]
	for _, rp := range repls {
		if rp.from < last {
			continue
		}
		applied = append(applied, rp)
		last = rp.to
	}
	last = 0
	for _, rp := range applied {
		b.WriteString(q[last:rp.from])
		at := b.Len()
		b.WriteString(rp.with)
		edits = append(edits, edit{pos: at, n: len(rp.with), delta: len(rp.with) - (rp.to - rp.from)})
		last = rp.to
	}
	b.WriteString(q[last:])
	return edits, b.String()
}

// selectTexts returns the text of each top-level item of the select list
// (between SELECT [DISTINCT] and FROM), as written.
func selectTexts(q string) []string {
	toks := ptokens(q)
	start, end := -1, len(q)
	depth := 0
	for i, t := range toks {
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth != 0 || !t.isWord {
			continue
		}
		low := strings.ToLower(t.text)
		if start < 0 && low == "select" {
			start = t.pos + len(t.text)
			if i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "distinct") {
				start = toks[i+1].pos + len(toks[i+1].text)
			}
			continue
		}
		if start >= 0 && low == "from" {
			end = t.pos
			break
		}
	}
	if start < 0 {
		return nil
	}
	var out []string
	depth = 0
	cur := start
	for _, t := range toks {
		if t.pos < start || t.pos >= end {
			continue
		}
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, strings.TrimSpace(q[cur:t.pos]))
				cur = t.pos + 1
			}
		}
	}
	out = append(out, strings.TrimSpace(q[cur:end]))
	// A stray comma before FROM leaves an empty last item.
	if n := len(out); n > 0 && out[n-1] == "" {
		out = out[:n-1]
	}
	return out
}
