package sql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// truth reports whether a value counts as true in WHERE/HAVING: NULL,
// zero and false do not.
func truth(v schema.Value) bool {
	switch v.Type {
	case schema.TypeInt, schema.TypeBool, schema.TypeTimestamp:
		return v.I != 0
	case schema.TypeFloat:
		return v.F != 0
	case schema.TypeString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
		return err == nil && f != 0
	}
	return false
}

func boolVal(b bool) schema.Value {
	if b {
		return schema.Int(1)
	}
	return schema.Int(0)
}

func isNumeric(v schema.Value) bool {
	return v.Type == schema.TypeInt || v.Type == schema.TypeFloat || v.Type == schema.TypeBool
}

func asFloat(v schema.Value) float64 {
	switch v.Type {
	case schema.TypeFloat:
		return v.F
	case schema.TypeInt, schema.TypeBool, schema.TypeTimestamp:
		return float64(v.I)
	case schema.TypeString:
		f, _ := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
		return f
	}
	return 0
}

// coerceTime turns a string compared with a timestamp into a timestamp.
func coerceTime(v schema.Value) (schema.Value, bool) {
	if v.Type == schema.TypeTimestamp {
		return v, true
	}
	if v.Type == schema.TypeString {
		us, err := schema.ParseTimestamp(strings.TrimSpace(v.S))
		if err == nil {
			return schema.TimestampMicros(us), true
		}
	}
	return v, false
}

// compare orders two non-NULL values: numbers numerically, timestamps by
// time (strings compared with a timestamp are read as one), strings by
// bytes; numbers sort before strings as in SQLite.
func compare(a, b schema.Value) int {
	if a.Type == b.Type && (a.Type == schema.TypeInt || a.Type == schema.TypeTimestamp) {
		return cmpInt(a.I, b.I)
	}
	if a.Type == schema.TypeTimestamp || b.Type == schema.TypeTimestamp {
		if ta, ok := coerceTime(a); ok {
			if tb, ok := coerceTime(b); ok {
				return cmpInt(ta.I, tb.I)
			}
		}
	}
	an, bn := isNumeric(a) || a.Type == schema.TypeTimestamp, isNumeric(b) || b.Type == schema.TypeTimestamp
	switch {
	case an && bn:
		if a.Type != schema.TypeFloat && b.Type != schema.TypeFloat {
			return cmpInt(a.I, b.I)
		}
		fa, fb := asFloat(a), asFloat(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a.S, b.S)
}

// compareAffinity is compare for the comparison operators (=, <, BETWEEN,
// IN, ...): a string that reads as a number, compared with a number, is
// compared as that number, as SQLite does for a column of numeric affinity
// (`value > '1'`, the way PostgreSQL clients that bind parameters
// client-side write them).
func compareAffinity(a, b schema.Value) int {
	if isNumeric(a) && b.Type == schema.TypeString {
		if f, err := strconv.ParseFloat(strings.TrimSpace(b.S), 64); err == nil {
			return compare(a, schema.Float(f))
		}
	} else if a.Type == schema.TypeString && isNumeric(b) {
		if f, err := strconv.ParseFloat(strings.TrimSpace(a.S), 64); err == nil {
			return compare(schema.Float(f), b)
		}
	}
	return compare(a, b)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNullsFirst orders with NULL before everything (ORDER BY, as in
// SQLite).
func compareNullsFirst(a, b schema.Value) int {
	switch {
	case a.IsNull() && b.IsNull():
		return 0
	case a.IsNull():
		return -1
	case b.IsNull():
		return 1
	}
	return compare(a, b)
}

// arith applies + - * / % with SQLite's typing: int op int stays int
// (division truncates), a float makes it float; timestamp ± interval is in
// addIntervals; NULL or division by zero gives NULL.
func arith(op byte, a, b schema.Value) schema.Value {
	if a.IsNull() || b.IsNull() {
		return schema.Null
	}
	if a.Type == schema.TypeString {
		a = numFromString(a.S)
	}
	if b.Type == schema.TypeString {
		b = numFromString(b.S)
	}
	if a.Type == schema.TypeTimestamp && b.Type == schema.TypeTimestamp && op == '-' {
		return schema.Int(a.I - b.I)
	}
	if a.Type != schema.TypeFloat && b.Type != schema.TypeFloat {
		x, y := a.I, b.I
		switch op {
		case '+':
			return schema.Int(x + y)
		case '-':
			return schema.Int(x - y)
		case '*':
			return schema.Int(x * y)
		case '/':
			if y == 0 {
				return schema.Null
			}
			return schema.Int(x / y)
		case '%':
			if y == 0 {
				return schema.Null
			}
			return schema.Int(x % y)
		}
	}
	x, y := asFloat(a), asFloat(b)
	switch op {
	case '+':
		return schema.Float(x + y)
	case '-':
		return schema.Float(x - y)
	case '*':
		return schema.Float(x * y)
	case '/':
		if y == 0 {
			return schema.Null
		}
		return schema.Float(x / y)
	case '%':
		if y == 0 {
			return schema.Null
		}
		return schema.Float(math.Mod(x, y))
	}
	return schema.Null
}

func numFromString(s string) schema.Value {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return schema.Int(i)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return schema.Float(f)
}

// addInterval moves a timestamp by n units (months and years by calendar).
func addInterval(ts schema.Value, n int64, unit string) schema.Value {
	if ts.IsNull() {
		return schema.Null
	}
	t, ok := coerceTime(ts)
	if !ok {
		return schema.Null
	}
	tm := t.Time()
	switch unit {
	case "second":
		tm = tm.Add(time.Duration(n) * time.Second)
	case "minute":
		tm = tm.Add(time.Duration(n) * time.Minute)
	case "hour":
		tm = tm.Add(time.Duration(n) * time.Hour)
	case "day":
		tm = tm.AddDate(0, 0, int(n))
	case "week":
		tm = tm.AddDate(0, 0, 7*int(n))
	case "month":
		tm = tm.AddDate(0, int(n), 0)
	case "year":
		tm = tm.AddDate(int(n), 0, 0)
	case "microsecond":
		tm = tm.Add(time.Duration(n) * time.Microsecond)
	}
	return schema.Timestamp(tm)
}

// likeMatch implements SQL LIKE with % and _ (case-insensitive for ASCII,
// as SQLite).
func likeMatch(s, pat string) bool {
	s, pat = strings.ToLower(s), strings.ToLower(pat)
	// The pattern is segments between %s. The first must match at the
	// start, the last at the end, and each one in between at its leftmost
	// place after the previous one: taking the leftmost place never loses a
	// match, so no backtracking is needed and the time is at most
	// len(s) × len(pat) (a backtracking matcher is exponential in the
	// number of %s).
	segs := strings.Split(pat, "%")
	if len(segs) == 1 {
		return len(s) == len(pat) && segMatch(s, pat)
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !segMatch(s[:len(first)], first) || !segMatch(s[len(s)-len(last):], last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := segIndex(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// segMatch reports whether s, as long as seg, matches it (_ is any byte).
func segMatch(s, seg string) bool {
	for i := 0; i < len(seg); i++ {
		if seg[i] != '_' && seg[i] != s[i] {
			return false
		}
	}
	return true
}

// segIndex is the leftmost offset where seg (_ is any byte) matches in s,
// or -1.
func segIndex(s, seg string) int {
	if !strings.Contains(seg, "_") {
		return strings.Index(s, seg)
	}
	for i := 0; i+len(seg) <= len(s); i++ {
		if segMatch(s[i:i+len(seg)], seg) {
			return i
		}
	}
	return -1
}

// truncTime truncates a timestamp to a unit, for date_trunc.
func truncTime(t time.Time, unit string) (time.Time, bool) {
	switch unit {
	case "second":
		return t.Truncate(time.Second), true
	case "minute":
		return t.Truncate(time.Minute), true
	case "hour":
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, t.Location()), true
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()), true
	case "week":
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		wd := (int(d.Weekday()) + 6) % 7 // Monday first, as PostgreSQL
		return d.AddDate(0, 0, -wd), true
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()), true
	case "year":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, t.Location()), true
	}
	return t, false
}
