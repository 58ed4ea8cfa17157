package sqlshell

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// progressAfter is how long a command runs before the shell shows its
// progress line; progressEvery how often the line is redrawn.
const (
	progressAfter = time.Second
	progressEvery = 250 * time.Millisecond
)

// progressLine is the line the shell shows for a running query: rows its
// scans read, their rate and the time elapsed, as clickhouse-client shows.
func progressLine(rows int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(rows) / s
	}
	return fmt.Sprintf("%s rows scanned, %s rows/s, %.1f s (Ctrl-C cancels)", grouped(rows), grouped(int64(rate)), elapsed.Seconds())
}

// grouped writes n with thousands separators.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

// progress draws the progress line of one command on a terminal, in place
// (carriage return, then erase to the end of the line), from progressAfter
// on, until stop — which erases it, so the result prints on a clean line.
type progress struct {
	w     io.Writer
	rows  *atomic.Int64
	start time.Time
	now   func() time.Time

	mu      sync.Mutex
	shown   bool
	stopped bool
}

func newProgress(w io.Writer, rows *atomic.Int64, now func() time.Time) *progress {
	return &progress{w: w, rows: rows, start: now(), now: now}
}

// run redraws the line on each tick until done is closed or stop is
// called.
func (p *progress) run(tick <-chan time.Time, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-tick:
			p.draw()
		}
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := p.now().Sub(p.start)
	if p.stopped || elapsed < progressAfter {
		return
	}
	p.shown = true
	_, _ = io.WriteString(p.w, "\r"+progressLine(p.rows.Load(), elapsed)+"\x1b[K")
}

// stop erases the line if it was drawn; later ticks draw nothing.
func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown && !p.stopped {
		_, _ = io.WriteString(p.w, "\r\x1b[K")
	}
	p.stopped = true
}

// stopOnWrite stops the progress line before the first byte of the result
// reaches the terminal.
type stopOnWrite struct {
	w    io.Writer
	stop func()
	once sync.Once
}

func (s *stopOnWrite) Write(b []byte) (int, error) {
	s.once.Do(s.stop)
	return s.w.Write(b)
}
