package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/tables"
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
	rep, err := tables.Check(*dataDir)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode check:", err)
		return 1
	}
	fmt.Fprintf(stdout, "data dir %s\n", rep.Dir)
	if rep.New {
		fmt.Fprintln(stdout, "  no database yet: a node started on it creates one")
		return 0
	}
	fmt.Fprintf(stdout, "  files: %s\n", strings.Join(rep.Files, ", "))
	if len(rep.Aside) > 0 {
		fmt.Fprintf(stdout, "  kept aside in %s (unreferenced after an unclean stop): %s\n", tables.UnreferencedDir, strings.Join(rep.Aside, ", "))
	}
	if rep.Damage != nil {
		if rep.Damage.File != "" {
			fmt.Fprintf(stdout, "  DAMAGED: %s: %s\n", rep.Damage.File, rep.Damage.Problem)
		} else {
			fmt.Fprintf(stdout, "  DAMAGED: %s\n", rep.Damage.Problem)
		}
		fmt.Fprintln(stdout, "  a node refuses to start on it; restore the dir from a backup (backup where dir = NAME)")
		return 1
	}
	if len(rep.Unreferenced) > 0 {
		fmt.Fprintf(stdout, "  unreferenced after an unclean stop (moved to %s at the next start): %s\n", tables.UnreferencedDir, strings.Join(rep.Unreferenced, ", "))
	}
	fmt.Fprintf(stdout, "  sound: %d table(s), every block of every .sst file read and its checksum verified\n", rep.Tables)
	return 0
}
