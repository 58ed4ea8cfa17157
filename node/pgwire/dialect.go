package pgwire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// span is a piece of the source that the translation replaced: source
// bytes [inStart, inEnd) became output bytes [outStart, outEnd).
type span struct{ inStart, inEnd, outStart, outEnd int }

// translated is a statement in lakenode's dialect, with what it takes to
// point an error at the client's text.
type translated struct {
	SQL   string
	spans []span
}

// sourcePos maps a byte offset in SQL back to the client's text.
func (t translated) sourcePos(p int) int {
	in := p
	for _, s := range t.spans {
		switch {
		case p < s.outStart:
			return in
		case p < s.outEnd:
			return s.inStart
		default:
			in = s.inEnd + (p - s.outEnd)
		}
	}
	return in
}

// dialectError is a statement this package cannot translate, at a byte
// offset of the client's text.
type dialectError struct {
	Pos int
	Msg string
}

func (e *dialectError) Error() string { return e.Msg }

var intervalRE = regexp.MustCompile(`^\s*([+-]?\d+)\s*(microsecond|millisecond|second|minute|hour|day|week|month|year)s?\s*$`)

// translate turns PostgreSQL's dialect into lakenode's: "name" becomes
// `name`, $n the n-th of params (a literal, already quoted), a string's
// backslashes are doubled (PostgreSQL's strings have no escapes), E'...'
// escape strings and $$...$$ / $tag$...$tag$ dollar-quoted strings become
// plain literals, and interval '2 hours' becomes interval 2 hour. Comments are kept. params
// may be shorter than the statement's highest $n: that is an error.
func translate(src string, params []string) (translated, error) {
	var b strings.Builder
	b.Grow(len(src) + 16)
	var spans []span
	replace := func(inStart, inEnd int, out string) {
		outStart := b.Len()
		b.WriteString(out)
		spans = append(spans, span{inStart, inEnd, outStart, b.Len()})
	}
	lastWord := ""
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\'':
			end, body, err := scanQuoted(src, i, '\'')
			if err != nil {
				return translated{}, err
			}
			if strings.EqualFold(lastWord, "interval") {
				if m := intervalRE.FindStringSubmatch(body); m != nil {
					replace(i, end, m[1]+" "+m[2])
					i, lastWord = end, ""
					continue
				}
			}
			if strings.Contains(body, `\`) {
				replace(i, end, quoteString(body))
			} else {
				b.WriteString(src[i:end])
			}
			i, lastWord = end, ""
		case c == '"':
			end, body, err := scanQuoted(src, i, '"')
			if err != nil {
				return translated{}, err
			}
			replace(i, end, "`"+strings.ReplaceAll(body, "`", "``")+"`")
			i, lastWord = end, ""
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			b.WriteString(src[i : i+end])
			i += end
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return translated{}, &dialectError{i, "unterminated /* comment"}
			}
			b.WriteString(src[i : i+2+end+2])
			i += 2 + end + 2
		case c == '$' && !isDigit(byteAt(src, i+1)):
			end, body, err := scanDollar(src, i)
			if err != nil {
				return translated{}, err
			}
			replace(i, end, quoteString(body))
			i, lastWord = end, ""
		case c == '$':
			j := i + 1
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			n, err := strconv.Atoi(src[i+1 : j])
			if err != nil || n < 1 || n > len(params) {
				return translated{}, &dialectError{i, fmt.Sprintf("there is no parameter $%s (the statement has %d)", src[i+1:j], len(params))}
			}
			replace(i, j, params[n-1])
			i, lastWord = j, ""
		case (c == 'E' || c == 'e') && i+1 < len(src) && src[i+1] == '\'' && !wordByte(prevByte(src, i)):
			end, body, err := scanEscaped(src, i)
			if err != nil {
				return translated{}, err
			}
			replace(i, end, quoteString(body))
			i, lastWord = end, ""
		case wordByte(c):
			j := i
			for j < len(src) && wordByte(src[j]) {
				j++
			}
			lastWord = src[i:j]
			b.WriteString(lastWord)
			i = j
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				lastWord = ""
			}
			b.WriteByte(c)
			i++
		}
	}
	return translated{SQL: b.String(), spans: spans}, nil
}

func byteAt(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanDollar reads a dollar-quoted string at src[i] ($$...$$ or
// $tag$...$tag$, the tag an identifier without $), returning the offset
// after it and its body, taken as is.
func scanDollar(src string, i int) (int, string, error) {
	j := i + 1
	for j < len(src) && src[j] != '$' && (wordByte(src[j]) && src[j] < 0x80) {
		j++
	}
	if j >= len(src) || src[j] != '$' || (j > i+1 && isDigit(src[i+1])) {
		return 0, "", &dialectError{i, "a $ that starts neither a parameter ($1) nor a dollar-quoted string ($$...$$)"}
	}
	delim := src[i : j+1]
	k := strings.Index(src[j+1:], delim)
	if k < 0 {
		return 0, "", &dialectError{i, "unterminated dollar-quoted string: no closing " + delim}
	}
	return j + 1 + k + len(delim), src[j+1 : j+1+k], nil
}

// scanEscaped reads an escape string E'...' at src[i]: backslash escapes
// (\b \f \n \r \t, \ooo octal, \xhh hex, \uXXXX, \UXXXXXXXX, and a
// backslash before any other character stands for it) and doubled quotes.
// It returns the offset after it and its value.
func scanEscaped(src string, i int) (int, string, error) {
	var b strings.Builder
	for j := i + 2; j < len(src); j++ {
		c := src[j]
		switch {
		case c == '\'' && byteAt(src, j+1) == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return j + 1, b.String(), nil
		case c == '\\':
			n, err := unescape(&b, src, j)
			if err != nil {
				return 0, "", err
			}
			j += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return 0, "", &dialectError{i, "unterminated E'...' string"}
}

// unescape decodes the escape at src[j] (a backslash) into b and returns
// its length.
func unescape(b *strings.Builder, src string, j int) (int, error) {
	if j+1 >= len(src) {
		return 0, &dialectError{j, "unterminated E'...' string"}
	}
	switch c := src[j+1]; c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'x', 'u', 'U':
		digits := 2
		switch c {
		case 'u':
			digits = 4
		case 'U':
			digits = 8
		}
		k := j + 2
		for k < len(src) && k < j+2+digits && isHex(src[k]) {
			k++
		}
		if k == j+2 || (c != 'x' && k != j+2+digits) {
			return 0, &dialectError{j, fmt.Sprintf("invalid escape \\%c in E'...': want %d hex digits", c, digits)}
		}
		v, _ := strconv.ParseUint(src[j+2:k], 16, 32)
		if c == 'x' {
			b.WriteByte(byte(v))
		} else {
			if v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) {
				return 0, &dialectError{j, fmt.Sprintf("invalid Unicode escape \\%s in E'...'", src[j+1:k])}
			}
			b.WriteRune(rune(v))
		}
		return k - j, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		k := j + 1
		for k < len(src) && k < j+4 && src[k] >= '0' && src[k] <= '7' {
			k++
		}
		v, _ := strconv.ParseUint(src[j+1:k], 8, 16)
		b.WriteByte(byte(v))
		return k - j, nil
	default:
		b.WriteByte(c)
	}
	return 2, nil
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func prevByte(s string, i int) byte {
	if i == 0 {
		return ' '
	}
	return s[i-1]
}

func wordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// scanQuoted reads a quoted token starting at src[i] (the quote q), where
// a doubled quote stands for one. It returns the offset after it and its
// body with the doubled quotes undone.
func scanQuoted(src string, i int, q byte) (int, string, error) {
	var body strings.Builder
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			body.WriteByte(src[j])
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			body.WriteByte(q)
			j++
			continue
		}
		return j + 1, body.String(), nil
	}
	what := "string"
	if q == '"' {
		what = "quoted identifier"
	}
	return 0, "", &dialectError{i, "unterminated " + what}
}

// quoteString writes s as a string literal of lakenode's dialect.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(s[i])
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// splitStatements cuts a simple query's text at the semicolons outside
// strings, identifiers and comments. Empty statements are dropped.
func splitStatements(src string) []string {
	var out []string
	start := 0
	add := func(end int) {
		if s := strings.TrimSpace(src[start:end]); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case (c == 'E' || c == 'e') && byteAt(src, i+1) == '\'' && !wordByte(prevByte(src, i)):
			end, _, err := scanEscaped(src, i)
			if err != nil {
				i = len(src)
				continue
			}
			i = end
		case c == '$' && !isDigit(byteAt(src, i+1)):
			end, _, err := scanDollar(src, i)
			if err != nil {
				i++
				continue
			}
			i = end
		case c == '\'' || c == '"':
			end, _, err := scanQuoted(src, i, c)
			if err != nil {
				i = len(src)
				continue
			}
			i = end
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				i = len(src)
				continue
			}
			i += end
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				i = len(src)
				continue
			}
			i += 2 + end + 2
		case c == ';':
			add(i)
			start = i + 1
			i++
		default:
			i++
		}
	}
	add(len(src))
	return out
}

func onlyComments(s string) bool {
	return stripLeading(s) == ""
}

// stripLeading drops leading white space, comments and opening
// parentheses.
func stripLeading(s string) string {
	for {
		t := strings.TrimLeft(s, " \t\r\n(")
		switch {
		case strings.HasPrefix(t, "--"):
			if i := strings.IndexByte(t, '\n'); i >= 0 {
				s = t[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(t, "/*"):
			if i := strings.Index(t, "*/"); i >= 0 {
				s = t[i+2:]
				continue
			}
			return ""
		}
		return t
	}
}

// firstWords returns the statement's first n words, lower case.
func firstWords(s string, n int) []string {
	s = stripLeading(s)
	var out []string
	for len(out) < n {
		s = strings.TrimLeft(s, " \t\r\n")
		j := 0
		for j < len(s) && (wordByte(s[j]) || s[j] == '.') {
			j++
		}
		if j == 0 {
			break
		}
		out = append(out, strings.ToLower(s[:j]))
		s = s[j:]
	}
	return out
}
