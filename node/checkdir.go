package node

import (
	"fmt"
	"io"
	"strings"

	"github.com/lakenode/lakenode/tables"
)

// CheckDataDir is `lakenode check`: it examines a stopped node's data dir
// without changing it and writes what it found to w. sound is false when
// the dir is damaged; err is set when it could not be checked.
func CheckDataDir(dir string, w io.Writer) (sound bool, err error) {
	rep, err := tables.Check(dir)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "data dir %s\n", rep.Dir)
	if rep.New {
		fmt.Fprintln(w, "  no database yet: a node started on it creates one")
		return true, nil
	}
	fmt.Fprintf(w, "  files: %s\n", strings.Join(rep.Files, ", "))
	if len(rep.Aside) > 0 {
		fmt.Fprintf(w, "  kept aside in %s (unreferenced after an unclean stop): %s\n", tables.UnreferencedDir, strings.Join(rep.Aside, ", "))
	}
	if rep.Damage != nil {
		if rep.Damage.File != "" {
			fmt.Fprintf(w, "  DAMAGED: %s: %s\n", rep.Damage.File, rep.Damage.Problem)
		} else {
			fmt.Fprintf(w, "  DAMAGED: %s\n", rep.Damage.Problem)
		}
		fmt.Fprintln(w, "  a node refuses to start on it; restore the dir from a backup (backup where dir = NAME)")
		return false, nil
	}
	if len(rep.Unreferenced) > 0 {
		fmt.Fprintf(w, "  unreferenced after an unclean stop (moved to %s at the next start): %s\n", tables.UnreferencedDir, strings.Join(rep.Unreferenced, ", "))
	}
	fmt.Fprintf(w, "  sound: %d table(s), every block of every .sst file read and its checksum verified\n", rep.Tables)
	return true, nil
}
