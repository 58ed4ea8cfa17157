package pgwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// PostgreSQL type OIDs of lakenode's types and of the parameter types
// clients declare.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidVarchar     = 1043
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
)

// oidOf is the PostgreSQL type a lakenode column is sent as. A column of
// no known type (NULL everywhere) is text.
func oidOf(t schema.Type) uint32 {
	switch t {
	case schema.TypeInt:
		return oidInt8
	case schema.TypeFloat:
		return oidFloat8
	case schema.TypeBool:
		return oidBool
	case schema.TypeTimestamp:
		return oidTimestamptz
	default:
		return oidText
	}
}

// typeSize is the type's size in RowDescription (-1: variable).
func typeSize(oid uint32) int16 {
	switch oid {
	case oidInt8, oidFloat8, oidTimestamptz:
		return 8
	case oidBool:
		return 1
	default:
		return -1
	}
}

// pgEpoch is PostgreSQL's timestamp epoch, 2000-01-01 UTC, in µs since
// the Unix epoch.
const pgEpoch = 946_684_800_000_000

// appendText appends v, sent as a column of type oid, in text format.
// loc is the session's TimeZone.
func appendText(dst []byte, oid uint32, v schema.Value, loc *time.Location) []byte {
	switch oid {
	case oidInt8:
		switch v.Type {
		case schema.TypeFloat:
			return strconv.AppendInt(dst, int64(v.F), 10)
		case schema.TypeString:
			return append(dst, v.S...)
		}
		return strconv.AppendInt(dst, v.I, 10)
	case oidFloat8:
		f := v.F
		switch v.Type {
		case schema.TypeInt, schema.TypeBool, schema.TypeTimestamp:
			f = float64(v.I)
		case schema.TypeString:
			return append(dst, v.S...)
		}
		return appendFloat(dst, f)
	case oidBool:
		if v.I != 0 || v.Type == schema.TypeFloat && v.F != 0 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case oidTimestamptz:
		if v.Type != schema.TypeTimestamp && v.Type != schema.TypeInt {
			return append(dst, v.String()...)
		}
		return appendTimestamptz(dst, time.UnixMicro(v.I).In(loc))
	default:
		switch v.Type {
		case schema.TypeString:
			return append(dst, v.S...)
		case schema.TypeFloat:
			return appendFloat(dst, v.F)
		case schema.TypeBool:
			if v.I != 0 {
				return append(dst, "true"...)
			}
			return append(dst, "false"...)
		case schema.TypeTimestamp:
			return appendTimestamptz(dst, time.UnixMicro(v.I).In(loc))
		}
		return append(dst, v.String()...)
	}
}

func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// appendTimestamptz writes t as PostgreSQL prints a timestamptz with
// DateStyle ISO: 2026-12-01 10:00:00.123456+00, the fraction trimmed, the
// offset's minutes only when it has some.
func appendTimestamptz(dst []byte, t time.Time) []byte {
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05.999999")
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendTwo(dst, off/3600)
	if m := off % 3600 / 60; m != 0 {
		dst = append(dst, ':')
		dst = appendTwo(dst, m)
	}
	return dst
}

func appendTwo(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10%10), byte('0'+n%10))
}

// appendBinary appends v, sent as a column of type oid, in binary format.
func appendBinary(dst []byte, oid uint32, v schema.Value) []byte {
	switch oid {
	case oidInt8:
		i := v.I
		if v.Type == schema.TypeFloat {
			i = int64(v.F)
		}
		return binary.BigEndian.AppendUint64(dst, uint64(i))
	case oidFloat8:
		f := v.F
		if v.Type != schema.TypeFloat {
			f = float64(v.I)
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
	case oidBool:
		if v.I != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case oidTimestamptz:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I-pgEpoch))
	default:
		return appendText(dst, oidText, v, time.UTC)
	}
}

// paramLiteral turns a bound parameter into a literal of lakenode's
// dialect. oid is the type the client declared (0: none); format 1 is
// binary. A text parameter of no declared type that reads as a number is
// sent as a number, anything else as a string.
func paramLiteral(oid uint32, format int16, raw []byte) (string, error) {
	if raw == nil {
		return "NULL", nil
	}
	if format == 1 {
		return binaryParam(oid, raw)
	}
	s := string(raw)
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return "", fmt.Errorf("invalid input syntax for type bigint: %q", s)
		}
		return s, nil
	case oidFloat4, oidFloat8, oidNumeric:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", fmt.Errorf("invalid input syntax for type double precision: %q", s)
		}
		return floatLiteral(f), nil
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			return "true", nil
		case "f", "false", "n", "no", "off", "0":
			return "false", nil
		}
		return "", fmt.Errorf("invalid input syntax for type boolean: %q", s)
	case 0, oidUnknown:
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && strings.TrimSpace(s) == s {
			return floatLiteral(f), nil
		}
	}
	return quoteString(s), nil
}

func floatLiteral(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return quoteString(appendFloatString(f))
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func appendFloatString(f float64) string { return string(appendFloat(nil, f)) }

func binaryParam(oid uint32, raw []byte) (string, error) {
	bad := func(want int) (string, error) {
		return "", fmt.Errorf("binary parameter of type %d has %d bytes, want %d", oid, len(raw), want)
	}
	switch oid {
	case oidInt2:
		if len(raw) != 2 {
			return bad(2)
		}
		return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(raw))), 10), nil
	case oidInt4:
		if len(raw) != 4 {
			return bad(4)
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(raw))), 10), nil
	case oidInt8:
		if len(raw) != 8 {
			return bad(8)
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(raw)), 10), nil
	case oidFloat4:
		if len(raw) != 4 {
			return bad(4)
		}
		return floatLiteral(float64(math.Float32frombits(binary.BigEndian.Uint32(raw)))), nil
	case oidFloat8:
		if len(raw) != 8 {
			return bad(8)
		}
		return floatLiteral(math.Float64frombits(binary.BigEndian.Uint64(raw))), nil
	case oidBool:
		if len(raw) != 1 {
			return bad(1)
		}
		if raw[0] != 0 {
			return "true", nil
		}
		return "false", nil
	case oidTimestamptz, oidTimestamp:
		if len(raw) != 8 {
			return bad(8)
		}
		us := int64(binary.BigEndian.Uint64(raw)) + pgEpoch
		return quoteString(time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.999999")), nil
	case oidText, oidVarchar, oidUnknown, 0:
		return quoteString(string(raw)), nil
	}
	return "", fmt.Errorf("binary parameters of type %d are not supported: send it in text format", oid)
}
