package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDedupHandler feeds log calls at given offsets of a fake clock and
// checks the lines that come out (time stripped).
func TestDedupHandler(t *testing.T) {
	type call struct {
		at   time.Duration // on the fake clock
		msg  string
		args []any
	}
	cases := []struct {
		name  string
		calls []call
		flush bool
		want  []string
	}{
		{"distinct lines all pass", []call{{0, "a", nil}, {time.Second, "b", nil}, {2 * time.Second, "a", []any{"k", 1}}},
			false, []string{`msg=a`, `msg=b`, `msg=a k=1`}},
		{"repeats within a minute are held and counted at the next line", []call{
			{0, "broker down", []any{"err", "refused"}},
			{10 * time.Second, "broker down", []any{"err", "refused"}},
			{20 * time.Second, "broker down", []any{"err", "refused"}},
			{61 * time.Second, "other", nil},
		}, false, []string{`msg="broker down" err=refused`, `msg="broker down" err=refused repeated=2`, `msg=other`}},
		{"the same line after the window passes again, after its count", []call{
			{0, "x", nil}, {time.Second, "x", nil}, {60 * time.Second, "x", nil}, {61 * time.Second, "x", nil},
		}, true, []string{`msg=x`, `msg=x repeated=1`, `msg=x`, `msg=x repeated=1`}},
		{"different attributes are different lines", []call{
			{0, "m", []any{"p", 1}}, {time.Second, "m", []any{"p", 2}}, {2 * time.Second, "m", []any{"p", 1}},
		}, true, []string{`msg=m p=1`, `msg=m p=2`, `msg=m p=1 repeated=1`}},
		{"a line never repeated has no count", []call{{0, "once", nil}}, true, []string{`msg=once`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			clock := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
			now := clock
			text := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
					return slog.Attr{}
				}
				return a
			}})
			h := NewDedupHandler(text, time.Minute, func() time.Time { return now })
			log := slog.New(h)
			for _, cl := range c.calls {
				now = clock.Add(cl.at)
				log.Info(cl.msg, cl.args...)
			}
			if c.flush {
				h.Flush()
			}
			got := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// Loggers made With attributes are told apart, and share the counts of
// identical ones.
func TestDedupHandlerWith(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	h := NewDedupHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
			return slog.Attr{}
		}
		return a
	}}), time.Minute, func() time.Time { return now })
	base := slog.New(h)
	a, b := base.With("consumer", 1), base.With("consumer", 2)
	a.Info("retrying")
	b.Info("retrying")
	base.With("consumer", 1).Info("retrying")
	a.WithGroup("g").Info("retrying", "k", "v")
	h.Flush()
	want := "msg=retrying consumer=1\nmsg=retrying consumer=2\nmsg=retrying consumer=1 g.k=v\nmsg=retrying consumer=1 repeated=1\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// The window's timer logs the count of a burst followed by silence.
func TestDedupHandlerTimer(t *testing.T) {
	out := make(chan string, 4)
	h := NewDedupHandler(slog.NewTextHandler(&lineWriter{out}, nil), 50*time.Millisecond, nil)
	log := slog.New(h)
	for range 3 {
		log.Warn("burst")
	}
	deadline := time.After(5 * time.Second)
	var lines []string
	for len(lines) < 2 {
		select {
		case l := <-out:
			lines = append(lines, l)
		case <-deadline:
			t.Fatalf("lines: %q", lines)
		}
	}
	if !strings.Contains(lines[0], "msg=burst") || strings.Contains(lines[0], "repeated") || !strings.Contains(lines[1], "repeated=2") {
		t.Fatalf("lines: %q", lines)
	}
}

type lineWriter struct{ out chan<- string }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.out <- string(b)
	return len(b), nil
}
