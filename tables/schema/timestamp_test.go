package schema

import (
	"strings"
	"testing"
)

// TestParseTimestamp: ISO 8601 text with and without fraction and zone (no
// zone is UTC), and epoch numbers read by magnitude (s, ms, µs, ns).
func TestParseTimestamp(t *testing.T) {
	const want = int64(1_795_888_800_123_456) // 2026-11-28T18:00:00.123456Z
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"2026-11-28T18:00:00.123456Z", want, ""},
		{"2026-11-28T19:00:00.123456+01:00", want, ""},
		{"2026-11-28 18:00:00.123456", want, ""},
		{"2026-11-28T18:00", want - 123_456, ""},
		{"2026-11-28", want - 123_456 - 18*3600*1_000_000, ""},
		{"1795888800", want - 123_456, ""},             // seconds
		{"1795888800.5", want - 123_456 + 500_000, ""}, // seconds with a fraction
		{"1795888800123", want - 456, ""},              // milliseconds
		{"1795888800123456", want, ""},                 // microseconds
		{"1795888800123456000", want, ""},              // nanoseconds
		{"-1", -1_000_000, ""},
		{"", 0, "empty"},
		{"yesterday", 0, "ISO 8601"},
		{"1e300", 0, "out of range"},
		{"NaN", 0, "not a timestamp"},
	} {
		got, err := ParseTimestamp(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTimestamp(%q) = %d, %v; want an error with %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseTimestamp(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}
