package output

import (
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lakenode/lakenode/tables/schema"
)

// AppendPyString appends s as Python's json.dumps writes a string with
// ensure_ascii=True: \" \\ \n \r \t \b \f escaped, other control and
// non-ASCII characters as \uXXXX (surrogate pairs above U+FFFF).
func AppendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				if c < 0x20 || c == 0x7f {
					b = appendU(b, rune(c))
				} else {
					b = append(b, c)
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Not UTF-8: Python would have decoded it with surrogateescape;
			// write the byte as U+DCxx as that does.
			b = appendU(b, rune(0xDC00+int(s[i])))
			i++
			continue
		}
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			b = appendU(b, r1)
			b = appendU(b, r2)
		} else {
			b = appendU(b, r)
		}
		i += n
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// AppendPyFloat appends f as Python's json.dumps writes a float.
func AppendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return append(b, schema.FormatFloat(f)...)
}

// AppendValue appends a value as a JSON value the way EdgeLake's rows show
// it: timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" in loc.
func AppendValue(b []byte, v schema.Value, loc *time.Location) []byte {
	switch v.Type {
	case schema.TypeString:
		return AppendPyString(b, v.S)
	case schema.TypeInt:
		return strconv.AppendInt(b, v.I, 10)
	case schema.TypeFloat:
		return AppendPyFloat(b, v.F)
	case schema.TypeTimestamp:
		if loc == nil {
			loc = time.UTC
		}
		b = append(b, '"')
		b = time.UnixMicro(v.I).In(loc).AppendFormat(b, schema.TimestampLayout)
		return append(b, '"')
	case schema.TypeBool:
		if v.I != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

// RowJSON appends one row as a JSON object with Python's separators
// (`", "` and `": "`), keys in column order. The Kafka export sends exactly
// this.
func RowJSON(dst []byte, cols []string, row schema.Row, loc *time.Location) []byte {
	dst = append(dst, '{')
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = AppendPyString(dst, c)
		dst = append(dst, ": "...)
		if i < len(row) {
			dst = AppendValue(dst, row[i], loc)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

// Object is an ordered JSON object for the `format = json` forms of the
// monitoring commands.
type Object struct {
	keys []string
	vals []any
}

// Set adds a key (in order).
func (o *Object) Set(k string, v any) *Object {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

// AppendJSON appends v (Object, []any, []Object, string, ints, floats, bool,
// nil, time.Time) compactly with Python's separators.
func AppendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case *Object:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendPyString(b, k)
			b = append(b, ": "...)
			b = AppendJSON(b, x.vals[i])
		}
		return append(b, '}')
	case []*Object:
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendJSON(b, o)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendJSON(b, o)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, o := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendPyString(b, o)
		}
		return append(b, ']')
	case string:
		return AppendPyString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float64:
		return AppendPyFloat(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		if x.IsZero() {
			return append(b, "null"...)
		}
		return AppendPyString(b, x.Format("2006-01-02 15:04:05"))
	case schema.Value:
		return AppendValue(b, x, time.UTC)
	}
	return AppendPyString(b, "<unsupported>")
}

// JSON renders v compactly, or indented by 4 spaces when pretty.
func JSON(v any, pretty bool) string {
	b := AppendJSON(nil, v)
	if !pretty {
		return string(b)
	}
	return Indent(b)
}

// Indent re-indents compact JSON with 4 spaces per level, keeping Python's
// `": "` separator.
func Indent(src []byte) string {
	var b []byte
	depth := 0
	inStr := false
	nl := func() {
		b = append(b, '\n')
		for range depth {
			b = append(b, "    "...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			b = append(b, c)
			if c == '\\' && i+1 < len(src) {
				i++
				b = append(b, src[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			b = append(b, c)
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				b = append(b, c, src[i+1])
				i++
				continue
			}
			b = append(b, c)
			depth++
			nl()
		case '}', ']':
			depth--
			nl()
			b = append(b, c)
		case ',':
			b = append(b, ',')
			nl()
			if i+1 < len(src) && src[i+1] == ' ' {
				i++
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
