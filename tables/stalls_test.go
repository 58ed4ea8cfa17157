package tables

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func TestWriteStallsCountTimeAndLogOncePerMinute(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	w := newWriteStalls(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return now })
	stall := func(d time.Duration, reason string) {
		w.begin(pebble.WriteStallBeginInfo{Reason: reason})
		now = now.Add(d)
		w.end()
	}
	stall(2*time.Second, "memtable count limit reached")
	if got := strings.Count(buf.String(), "stalled writes"); got != 1 {
		t.Fatalf("first stall: %d log lines, want 1:\n%s", got, buf.String())
	}
	stall(time.Second, "L0 file count limit exceeded")
	stall(3*time.Second, "memtable count limit reached")
	if got := strings.Count(buf.String(), "stalled writes"); got != 1 {
		t.Fatalf("within the minute: %d log lines, want still 1:\n%s", got, buf.String())
	}
	now = now.Add(time.Minute)
	stall(500*time.Millisecond, "L0 file count limit exceeded")
	out := buf.String()
	if got := strings.Count(out, "stalled writes"); got != 2 {
		t.Fatalf("a minute later: %d log lines, want 2:\n%s", got, out)
	}
	// The second line covers the three stalls since the first, and the
	// longest of them.
	if !strings.Contains(out, "stalls=3") || !strings.Contains(out, "longest=3s") || !strings.Contains(out, `last_reason="L0 file count limit exceeded"`) {
		t.Fatalf("the second line does not sum up the stalls since the first:\n%s", out)
	}
	w.begin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	now = now.Add(250 * time.Millisecond)
	if st := w.stats(); st.Count != 5 || st.Time != 6*time.Second+750*time.Millisecond {
		t.Fatalf("stats with a stall running = %+v, want 5 stalls, 6.75 s", st)
	}
	w.end()
	w.end() // an end without a begin changes nothing
	if st := w.stats(); st.Count != 5 || st.Time != 6*time.Second+750*time.Millisecond {
		t.Fatalf("stats after the stall = %+v, want 5 stalls, 6.75 s", st)
	}
}
