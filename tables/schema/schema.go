// Package schema holds lakenode's column types, values, rows and table schemas.
//
// These are plain types with no storage behind them: the kafka mapping produces
// them, the tables package stores them, the SQL executor reads them. Nothing
// here imports Pebble, franz-go or protoactor.
package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is a column type. The declared type of a mapping is the column type
// (ARCHITECTURE §2): a value that does not fit is rejected, never truncated.
type Type uint8

// Column types. The numeric values are part of the on-disk format
// (tables/FORMAT.md): never renumber them.
const (
	TypeInvalid   Type = 0
	TypeString    Type = 1 // UTF-8 text; EdgeLake's str / varchar
	TypeInt       Type = 2 // int64
	TypeFloat     Type = 3 // float64
	TypeTimestamp Type = 4 // microseconds since the Unix epoch, UTC
	TypeBool      Type = 5 // true / false
)

// String returns the name lakenode prints for the type.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "str"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeTimestamp:
		return "timestamp"
	case TypeBool:
		return "bool"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// SQLName is the type as shown by `get columns` (EdgeLake's SQL spelling).
func (t Type) SQLName() string {
	switch t {
	case TypeString:
		return "varchar"
	case TypeInt:
		return "integer"
	case TypeFloat:
		return "float"
	case TypeTimestamp:
		return "timestamp"
	case TypeBool:
		return "boolean"
	}
	return t.String()
}

// ParseShortType parses the type of the short form `column.NAME.TYPE`, which
// EdgeLake limits to str, int, float and timestamp.
func ParseShortType(s string) (Type, bool) {
	switch strings.ToLower(s) {
	case "str":
		return TypeString, true
	case "int":
		return TypeInt, true
	case "float":
		return TypeFloat, true
	case "timestamp":
		return TypeTimestamp, true
	}
	return TypeInvalid, false
}

// ParseLongType parses the `type = ..` of the long form
// `column.NAME = (type = .. and value = ..)`, with EdgeLake's aliases
// (reference §1.4). Types lakenode stores differently are folded onto the
// nearest one: bigint into int, char(n) into str, date/time into timestamp is
// not done (they are rejected) to keep values exact.
func ParseLongType(s string) (Type, bool) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "str", "string", "char varying", "varchar", "bytestring", "nodeid", "text", "char", "character", "uuid", "byte":
		return TypeString, true
	case "int", "integer", "int16", "uint16", "int32", "uint32", "sbyte", "bigint", "int64", "uint64":
		return TypeInt, true
	case "float", "float64", "float32", "decimal", "numeric", "double":
		return TypeFloat, true
	case "timestamp", "datetime":
		return TypeTimestamp, true
	case "bool", "boolean":
		return TypeBool, true
	}
	if (strings.HasPrefix(l, "char(") || strings.HasPrefix(l, "character(") || strings.HasPrefix(l, "varchar(")) && strings.HasSuffix(l, ")") {
		return TypeString, true
	}
	return TypeInvalid, false
}

// Value is one typed cell. The zero Value is NULL.
type Value struct {
	Type Type    // TypeInvalid means NULL
	I    int64   // TypeInt, TypeTimestamp (µs since epoch, UTC), TypeBool (0/1)
	F    float64 // TypeFloat
	S    string  // TypeString
}

// Null is the NULL value.
var Null = Value{}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Type == TypeInvalid }

// Str returns a string value.
func Str(s string) Value { return Value{Type: TypeString, S: s} }

// Int returns an integer value.
func Int(i int64) Value { return Value{Type: TypeInt, I: i} }

// Float returns a float value.
func Float(f float64) Value { return Value{Type: TypeFloat, F: f} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Type: TypeBool, I: 1}
	}
	return Value{Type: TypeBool}
}

// Timestamp returns a timestamp value from a time.
func Timestamp(t time.Time) Value { return Value{Type: TypeTimestamp, I: t.UnixMicro()} }

// TimestampMicros returns a timestamp value from µs since the epoch.
func TimestampMicros(us int64) Value { return Value{Type: TypeTimestamp, I: us} }

// Time returns the value of a timestamp as a UTC time.
func (v Value) Time() time.Time { return time.UnixMicro(v.I).UTC() }

// TimestampLayout is how EdgeLake prints timestamps: YYYY-MM-DD HH:MM:SS.ffffff.
const TimestampLayout = "2006-01-02 15:04:05.000000"

// String renders the value as text (NULL as "", timestamps in UTC with
// TimestampLayout, floats as Python's repr would).
func (v Value) String() string {
	switch v.Type {
	case TypeString:
		return v.S
	case TypeInt:
		return strconv.FormatInt(v.I, 10)
	case TypeFloat:
		return FormatFloat(v.F)
	case TypeTimestamp:
		return v.Time().Format(TimestampLayout)
	case TypeBool:
		if v.I != 0 {
			return "true"
		}
		return "false"
	}
	return ""
}

// FormatFloat writes f as Python's repr does: 46.0, 0.1, 1e-05, 1e+16, nan, inf.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if f != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes 1e-05 and 1e+16 like Python; only the mantissa needs no change.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// Row is one row of a table: values in the order of the table's columns.
type Row []Value

// Column is one column of a table.
type Column struct {
	Name string
	Type Type
}

// System column names, present in every table in this order before the
// mapped columns (EdgeLake's row_id, insert_timestamp, tsd_name, tsd_id).
const (
	ColRowID           = "row_id"
	ColInsertTimestamp = "insert_timestamp"
	ColTSDName         = "tsd_name"
	ColTSDID           = "tsd_id"
)

// SystemColumns are the columns every table starts with.
var SystemColumns = []Column{
	{Name: ColRowID, Type: TypeInt},
	{Name: ColInsertTimestamp, Type: TypeTimestamp},
	{Name: ColTSDName, Type: TypeString},
	{Name: ColTSDID, Type: TypeInt},
}

// NumSystemColumns is len(SystemColumns).
const NumSystemColumns = 4

// Table is the schema of one table.
type Table struct {
	DBMS    string
	Name    string
	ID      uint32   // local id used in storage keys, assigned by the catalog
	Version uint32   // bumped each time columns are added
	Columns []Column // SystemColumns first, then mapped columns in the order declared
	// TimeColumn is the index in Columns of the time column (ARCHITECTURE §2):
	// `timestamp` if present at creation, else the first timestamp column,
	// else insert_timestamp. It never changes after creation.
	TimeColumn int
	// Retention, when set, is how long rows are kept, by their time
	// column; older rows are deleted.
	Retention time.Duration
}

// ColumnIndex returns the index of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// FullName is "dbms.table".
func (t *Table) FullName() string { return t.DBMS + "." + t.Name }

// ChooseTimeColumn picks the time column of a new table with these columns.
func ChooseTimeColumn(cols []Column) int {
	for i, c := range cols {
		if c.Name == "timestamp" && c.Type == TypeTimestamp {
			return i
		}
	}
	for i, c := range cols {
		if i >= NumSystemColumns && c.Type == TypeTimestamp {
			return i
		}
	}
	for i, c := range cols {
		if c.Name == ColInsertTimestamp {
			return i
		}
	}
	return -1
}

// NormalizeName normalises a dbms or table name as EdgeLake's reset_str_chars
// does (reference §1.2): A-Z to lower case; space - . / \ : to _; a-z 0-9 _
// kept; any other byte below 256 as 0x%02x. Runes above 255 are kept as is.
func NormalizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '\\' || r == ':':
			b.WriteByte('_')
		case r < 256:
			fmt.Fprintf(&b, "0x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Closest returns the candidate nearest to name (case-insensitive edit
// distance, or a name it is a prefix of), if it is near enough to suggest.
func Closest(name string, cands []string) string {
	best, bestD := "", 1<<30
	ln := strings.ToLower(name)
	for _, c := range cands {
		lc := strings.ToLower(c)
		d := editDistance(ln, lc)
		if len(ln) >= 3 && (strings.HasPrefix(lc, ln) || strings.HasPrefix(ln, lc)) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
