package schema

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTimestamp reads a timestamp as µs since the epoch: ISO 8601 / RFC 3339
// text with or without fraction and zone (no zone means UTC), or an epoch
// number read by magnitude: seconds below 1e11, milliseconds below 1e14,
// microseconds below 1e17, nanoseconds above.
func ParseTimestamp(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("is not a timestamp (empty)")
	}
	if c := s[0]; c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, ":T ") {
			return epochMicros(f)
		}
	}
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	return 0, errors.New("is not a timestamp (use ISO 8601 such as 2026-11-24T18:00:00.123456Z, or an epoch number)")
}

func epochMicros(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("is not a timestamp")
	}
	a := math.Abs(f)
	var us float64
	switch {
	case a < 1e11:
		us = f * 1e6
	case a < 1e14:
		us = f * 1e3
	case a < 1e17:
		us = f
	default:
		us = f / 1e3
	}
	if us >= 9.2e18 || us <= -9.2e18 {
		return 0, errors.New("is not a timestamp (out of range)")
	}
	return int64(math.Round(us)), nil
}
