package node

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DedupHandler passes a log record on unless an identical one (same level,
// message, attributes and handler attributes) was passed on less than a
// window ago; those are counted instead. When the window of a repeated
// record ends, the record is logged once more with `repeated=N`, the number
// held back. So a broker that fails every second logs one line a minute
// with a count, not sixty.
type DedupHandler struct {
	next  slog.Handler
	st    *dedupState
	scope string // the attributes and groups added by With*, as a key prefix
}

type dedupState struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	seen   map[string]*dedupEntry
	timer  *time.Timer
	swept  time.Time // the last sweep of ended windows (at most one a second)
}

type dedupEntry struct {
	first time.Time
	held  int
	rec   slog.Record
	h     slog.Handler
}

// dedupMaxKeys bounds the records remembered; past it records pass through.
const dedupMaxKeys = 4096

// NewDedupHandler wraps next; now is the clock (nil: time.Now).
func NewDedupHandler(next slog.Handler, window time.Duration, now func() time.Time) *DedupHandler {
	if now == nil {
		now = time.Now
	}
	return &DedupHandler{next: next, st: &dedupState{window: window, now: now, seen: map[string]*dedupEntry{}}}
}

// Enabled implements slog.Handler.
func (h *DedupHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *DedupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.scope)
	for _, a := range as {
		fmt.Fprintf(&b, "%s=%v\x00", a.Key, a.Value)
	}
	return &DedupHandler{next: h.next.WithAttrs(as), st: h.st, scope: b.String()}
}

// WithGroup implements slog.Handler.
func (h *DedupHandler) WithGroup(name string) slog.Handler {
	return &DedupHandler{next: h.next.WithGroup(name), st: h.st, scope: h.scope + "[" + name + "]\x00"}
}

// Handle implements slog.Handler.
func (h *DedupHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.scope)
	fmt.Fprintf(&b, "%d\x00%s\x00", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, "%s=%v\x00", a.Key, a.Value)
		return true
	})
	key := b.String()
	st := h.st
	st.mu.Lock()
	now := st.now()
	var due []*dedupEntry
	if now.Sub(st.swept) >= time.Second {
		st.swept = now
		due = st.expire(now)
	}
	if e := st.seen[key]; e != nil {
		if now.Sub(e.first) < st.window {
			e.held++
			if st.timer == nil {
				st.timer = time.AfterFunc(st.window, st.flushDue)
			}
			st.mu.Unlock()
			emit(ctx, due)
			return nil
		}
		delete(st.seen, key)
		if e.held > 0 {
			e.rec.Time = now
			due = append(due, e)
		}
	}
	if len(st.seen) < dedupMaxKeys {
		st.seen[key] = &dedupEntry{first: now, rec: r.Clone(), h: h.next}
	}
	st.mu.Unlock()
	emit(ctx, due)
	return h.next.Handle(ctx, r)
}

// Flush logs the counts of every record held back so far (at exit).
func (h *DedupHandler) Flush() {
	st := h.st
	st.mu.Lock()
	due := st.expire(time.Time{})
	st.mu.Unlock()
	emit(context.Background(), due)
}

// flushDue logs the counts whose window has ended; the timer calls it so
// that a burst followed by silence is still counted within a window.
func (st *dedupState) flushDue() {
	st.mu.Lock()
	st.timer = nil
	due := st.expire(st.now())
	for _, e := range st.seen {
		if e.held > 0 && st.timer == nil {
			st.timer = time.AfterFunc(st.window, st.flushDue)
		}
	}
	st.mu.Unlock()
	emit(context.Background(), due)
}

// expire forgets the records whose window has ended at now (all of them
// for the zero time) and returns the summaries to log for those held back.
// Called with mu held.
func (st *dedupState) expire(now time.Time) []*dedupEntry {
	var due []*dedupEntry
	for k, e := range st.seen {
		if !now.IsZero() && now.Sub(e.first) < st.window {
			continue
		}
		delete(st.seen, k)
		if e.held > 0 {
			e.rec.Time = now
			if now.IsZero() {
				e.rec.Time = time.Now()
			}
			due = append(due, e)
		}
	}
	return due
}

func emit(ctx context.Context, due []*dedupEntry) {
	for _, e := range due {
		r := e.rec.Clone()
		r.AddAttrs(slog.Int("repeated", e.held))
		_ = e.h.Handle(ctx, r)
	}
}
