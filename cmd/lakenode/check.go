package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lakenode/lakenode/node"
)

// runCheck is `lakenode check --data-dir DIR`: it examines a stopped
// node's data dir without changing it, prints what it found, and exits 0
// when the dir is sound, 1 when it is damaged or cannot be checked.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lakenode check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", node.DefaultDataDir, "the data dir to check (its node must be stopped)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  lakenode check [--data-dir DIR]   check a stopped node's data dir (read only): exit 0 when sound, 1 when damaged\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if help, err := parse(fs, args, stdout, stderr); help {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lakenode check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	sound, err := node.CheckDataDir(*dataDir, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode check:", err)
		return 1
	}
	if !sound {
		return 1
	}
	return 0
}
