package node

import (
	"context"
	"strings"
	"testing"
)

func TestClipText(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"0123456789", 10, "0123456789"},
		{"0123456789ab", 10, "0123456789… (2 more bytes cut)"},
		{"ééééé", 3, "é… (8 more bytes cut)"}, // never half a character
		{strings.Repeat("x", 5000), 1024, strings.Repeat("x", 1024) + "… (3976 more bytes cut)"},
	}
	for _, c := range cases {
		if got := clipText(c.in, c.max); got != c.want {
			t.Errorf("clipText(%.20q, %d) = %.60q, want %.60q", c.in, c.max, got, c.want)
		}
	}
}

func TestClipCaret(t *testing.T) {
	long := strings.Repeat("a", 50) + "X" + strings.Repeat("b", 50)
	cases := []struct {
		name, caret, want string
	}{
		{"short line kept", "get foo\n    ^", "get foo\n    ^"},
		{"middle", long + "\n" + strings.Repeat(" ", 50) + "^", "…" + strings.Repeat("a", 5) + "X" + strings.Repeat("b", 4) + "…\n      ^"},
		{"start", long + "\n^", strings.Repeat("a", 5) + "…\n^"},
		{"end", long + "\n" + strings.Repeat(" ", 101) + "^", "…" + strings.Repeat("b", 5) + "\n      ^"},
		{"tabs kept", "\t" + long + "\n\t" + strings.Repeat(" ", 3) + "^", "\taaaaaaaa…\n\t   ^"},
	}
	for _, c := range cases {
		if got := clipCaret(c.caret, 5); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// A megabyte command's error and its error log entry stay small.
func TestHugeCommandErrorIsBounded(t *testing.T) {
	n := streamNode(t)
	line := "get " + strings.Repeat("nonsense ", 120_000)
	res := n.Execute(context.Background(), line, ExecOptions{})
	if res.Err == nil {
		t.Fatal("a nonsense command succeeded")
	}
	if got := len(res.ErrorText()); got > 3*maxErrorText {
		t.Fatalf("error text of %d bytes:\n%.300s", got, res.ErrorText())
	}
	res = n.Execute(context.Background(), `sql d "select value from t where value = '`+strings.Repeat("v", 1<<20)+`' and and"`, ExecOptions{})
	if res.Err == nil || len(res.ErrorText()) > 3*maxErrorText {
		t.Fatalf("SQL error of %d bytes: %.300s", len(res.ErrorText()), res.ErrorText())
	}
	n.errLog.add("command", strings.Repeat("e", 1<<20))
	if e := n.errLog.list()[2]; len(e.Text) != maxErrorText+len("… (1047552 more bytes cut)") {
		t.Fatalf("a 1 MB error text is kept as %d bytes", len(e.Text))
	}
	entries := n.errLog.list()[:2]
	if len(entries) != 2 {
		t.Fatalf("%d error log entries", len(entries))
	}
	for _, e := range entries {
		if len(e.Text) > maxErrorText+40 {
			t.Fatalf("error log entry of %d bytes: %.200s", len(e.Text), e.Text)
		}
	}
}
