package output

import (
	"bytes"
	"testing"
)

// TestReplyPrint: notices first on stderr, then the error (and no text) or
// the text ending in one newline.
func TestReplyPrint(t *testing.T) {
	for _, c := range []struct {
		name           string
		rep            Reply
		ok             bool
		stdout, stderr string
	}{
		{"text", Reply{Text: "a\nb"}, true, "a\nb\n", ""},
		{"text with newline", Reply{Text: "a\n"}, true, "a\n", ""},
		{"empty", Reply{}, true, "", ""},
		{"notices", Reply{Text: "rows", Notices: []string{"n1", "n2"}}, true, "rows\n", "n1\nn2\n"},
		{"error", Reply{Text: "partial", Notices: []string{"n"}, Err: "failed\n   ^"}, false, "", "n\nfailed\n   ^\n"},
	} {
		var out, errOut bytes.Buffer
		if ok := c.rep.Print(&out, &errOut); ok != c.ok || out.String() != c.stdout || errOut.String() != c.stderr {
			t.Errorf("%s: ok %v, stdout %q, stderr %q; want %v, %q, %q", c.name, ok, out.String(), errOut.String(), c.ok, c.stdout, c.stderr)
		}
	}
}
