package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// appendValidUTF8 appends s to dst with every byte that is not part of a
// valid UTF-8 sequence replaced by U+FFFD, and says how many it replaced.
func appendValidUTF8(dst, s []byte) ([]byte, int) {
	n := 0
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) == 0 {
			break
		}
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
			n++
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst, n
}

// jsonProblem says in plain words why value is not JSON, with the offset
// of the byte at fault, or that it nests deeper than fastjson's limit. The
// parser's own error text repeats itself once per nesting level, so it is
// used only when encoding/json accepts what fastjson refused.
func jsonProblem(value []byte, perr error) string {
	if len(bytes.TrimSpace(value)) == 0 {
		return "the message is empty"
	}
	// fastjson stops at its nesting limit before any syntax error further
	// on; encoding/json, with a deeper limit of its own, would name a
	// character past it instead.
	if strings.Contains(perr.Error(), "too big depth") {
		return fmt.Sprintf("nested deeper than %d levels", fastjson.MaxDepth)
	}
	var raw json.RawMessage
	err := json.Unmarshal(value, &raw)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		msg, _, _ := strings.Cut(perr.Error(), "; unparsed tail")
		return ClipText(msg, 120)
	}
	if se.Error() == "unexpected end of JSON input" {
		return fmt.Sprintf("the message ends before its JSON value does (offset %d)", len(value))
	}
	off := min(max(int(se.Offset)-1, 0), len(value)-1)
	c := value[off]
	var what string
	switch {
	case c == '\'':
		what = "single quotes are not allowed"
	case strings.Contains(se.Error(), "after top-level value"):
		what = "more text after the JSON value"
	case (c == '}' || c == ']') && prevNonSpace(value, off) == ',':
		what = "a trailing comma is not allowed"
	default:
		what = pythonWord(value[off:])
		if what == "" {
			what = "unexpected " + describeByte(c)
		}
	}
	return fmt.Sprintf("%s (offset %d)", what, off)
}

func prevNonSpace(b []byte, i int) byte {
	for i--; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b[i]
	}
	return 0
}

// pythonWord names the Python literals that are not JSON (fastjson itself
// accepts NaN).
func pythonWord(b []byte) string {
	for _, w := range [...][2]string{{"None", "null"}, {"True", "true"}, {"False", "false"}} {
		if bytes.HasPrefix(b, []byte(w[0])) {
			return w[0] + " is not JSON (write " + w[1] + ")"
		}
	}
	if bytes.HasPrefix(b, []byte("Infinity")) {
		return "Infinity is not a JSON number"
	}
	return ""
}

func describeByte(c byte) string {
	if c > ' ' && c < utf8.RuneSelf {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
