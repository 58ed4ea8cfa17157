package sqlshell

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		rows    int64
		elapsed time.Duration
		want    string
	}{
		{0, 1500 * time.Millisecond, "0 rows scanned, 0 rows/s, 1.5 s (Ctrl-C cancels)"},
		{1234567, 2 * time.Second, "1,234,567 rows scanned, 617,283 rows/s, 2.0 s (Ctrl-C cancels)"},
		{999, time.Second, "999 rows scanned, 999 rows/s, 1.0 s (Ctrl-C cancels)"},
		{1000, 0, "1,000 rows scanned, 0 rows/s, 0.0 s (Ctrl-C cancels)"},
	} {
		if got := progressLine(tc.rows, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%d, %v) = %q, want %q", tc.rows, tc.elapsed, got, tc.want)
		}
	}
	if g := grouped(-1234); g != "-1,234" {
		t.Errorf("grouped(-1234) = %q", g)
	}
}

// The line appears after a second, is redrawn in place, and is erased
// before the result's first byte; nothing is drawn after.
func TestProgressDrawsInPlaceAndErases(t *testing.T) {
	var term bytes.Buffer
	rows := &atomic.Int64{}
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := newProgress(&term, rows, func() time.Time { return clock })
	step := func(d time.Duration, n int64) {
		clock = clock.Add(d)
		rows.Store(n)
		p.draw()
	}
	step(500*time.Millisecond, 10) // under a second: nothing
	step(1000*time.Millisecond, 3000)
	step(500*time.Millisecond, 6000)
	out := &stopOnWrite{w: &term, stop: p.stop}
	_, _ = out.Write([]byte("result\n"))
	step(time.Second, 9000) // after the result: nothing
	want := "\r3,000 rows scanned, 2,000 rows/s, 1.5 s (Ctrl-C cancels)\x1b[K" +
		"\r6,000 rows scanned, 3,000 rows/s, 2.0 s (Ctrl-C cancels)\x1b[K" +
		"\r\x1b[K" + "result\n"
	if term.String() != want {
		t.Fatalf("terminal got %q\nwant %q", term.String(), want)
	}
}

// run draws on its ticks and returns when done is closed.
func TestProgressRun(t *testing.T) {
	var term lockedBuffer
	start := time.Now()
	p := newProgress(&term, &atomic.Int64{}, func() time.Time { return start.Add(2 * time.Second) })
	p.start = start
	tick := make(chan time.Time)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() { p.run(tick, done); close(finished) }()
	tick <- time.Now()
	tick <- time.Now() // the first tick's draw is over once the second is taken
	close(done)
	<-finished
	if got := term.String(); strings.Count(got, "rows scanned") < 1 {
		t.Fatalf("run drew %q", got)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A command done within a second leaves no trace of the progress line.
func TestProgressQuickCommandDrawsNothing(t *testing.T) {
	var term bytes.Buffer
	clock := time.Now()
	p := newProgress(&term, &atomic.Int64{}, func() time.Time { return clock })
	clock = clock.Add(900 * time.Millisecond)
	p.draw()
	p.stop()
	if term.Len() != 0 || strings.Contains(term.String(), "rows") {
		t.Fatalf("a quick command drew %q", term.String())
	}
}
