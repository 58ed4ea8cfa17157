package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpToStdout: asking for help prints the usage on stdout and exits 0;
// a bad flag prints it on stderr and exits 2.
func TestHelpToStdout(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string // in stdout for help, stderr otherwise
	}{
		{[]string{"--help"}, 0, "-data-dir"},
		{[]string{"-h"}, 0, "-files-dir"},
		{[]string{"demo", "--help"}, 0, "-rate"},
		{[]string{"cluster", "--help"}, 0, "lakenode cluster up"},
		{[]string{"cluster", "up", "--help"}, 0, "-nodes"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"cluster", "up", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"cluster"}, 2, "usage: lakenode cluster up"},
		{[]string{"--cache-size", "10"}, 2, "--cache-size 10: must be between 1MiB and 1TiB"},
		{[]string{"--cache-size", "lots"}, 2, "invalid value \"lots\" for flag -cache-size"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		out := stdout.String()
		if c.code != 0 {
			out = stderr.String()
		}
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("lakenode %s: exit %d, stdout %q, stderr %q; want exit %d with %q", strings.Join(c.args, " "), code, stdout.String(), stderr.String(), c.code, c.want)
		}
		if c.code == 0 && stderr.Len() > 0 {
			t.Errorf("lakenode %s: help wrote to stderr: %q", strings.Join(c.args, " "), stderr.String())
		}
	}
}
