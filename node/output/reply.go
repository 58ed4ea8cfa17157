package output

import (
	"fmt"
	"io"
	"strings"
)

// Reply is a command's outcome as the shell, -c and -f print it, from the
// node in this process or from a remote one (--connect).
type Reply struct {
	Text    string   // the result, printed on stdout
	Notices []string // printed on stderr before the result
	Err     string   // the error text, printed on stderr; "" on success
}

// Print writes the reply: its notices on stderr, then its error on stderr
// or its text on stdout, ending in a newline. It reports success.
func (r Reply) Print(stdout, stderr io.Writer) bool {
	for _, n := range r.Notices {
		fmt.Fprintln(stderr, n)
	}
	if r.Err != "" {
		fmt.Fprintln(stderr, r.Err)
		return false
	}
	if r.Text != "" {
		_, _ = io.WriteString(stdout, r.Text)
		if !strings.HasSuffix(r.Text, "\n") {
			_, _ = io.WriteString(stdout, "\n")
		}
	}
	return true
}
