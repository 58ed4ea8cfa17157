package actors

import (
	"testing"
	"time"
)

func TestParseApplyDelays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]time.Duration
		bad  bool
	}{
		{in: "", want: map[string]time.Duration{}},
		{in: "slow.events=50ms", want: map[string]time.Duration{"slow.events": 50 * time.Millisecond}},
		{in: " A.b = 1s , c.d=0s", want: map[string]time.Duration{"a.b": time.Second, "c.d": 0}},
		{in: "events=50ms", bad: true},
		{in: "a.b", bad: true},
		{in: "a.b=soon", bad: true},
		{in: "a.b=-1s", bad: true},
	} {
		got, err := parseApplyDelays(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error, got %v", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s = %v, want %v", tc.in, k, got[k], v)
			}
		}
	}
}
