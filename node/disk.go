package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lakenode/lakenode/tables"
)

// Full disk: Pebble cannot survive a failed WAL write, so the node keeps
// --min-free bytes free on the data dir's filesystem. Below it ingest
// pauses (tables and partitions wait, actors package), queries go on, and
// a node started below it waits before it opens the store.

// watchSpace logs and reports each time the disk becomes full or has
// room again.
func (n *Node) watchSpace() {
	sp := n.store.Space()
	sp.Watch(func(full bool) {
		st := sp.Status()
		if full {
			n.event("disk", fmt.Sprintf("ingest paused: %s on the filesystem of %s; queries go on, ingest resumes by itself when space returns", st.Text(), n.cfg.DataDir))
			return
		}
		n.event("disk", fmt.Sprintf("ingest resumes: %d MiB free on the filesystem of %s", st.Free>>20, n.cfg.DataDir))
	})
}

// diskFullText is the pause status while the disk is full, else "".
func (n *Node) diskFullText() string {
	return n.store.Space().Status().Text()
}

// onlyDiskFull reports whether every error err joins is a disk-full one.
func onlyDiskFull(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyDiskFull(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	var full *tables.DiskFullError
	return errors.As(err, &full)
}

// spaceWaitLog is how often WaitForSpace repeats its status in the log.
const spaceWaitLog = time.Minute

// WaitForSpace returns once the filesystem of cfg.DataDir has cfg.MinFree
// bytes free, checking every 250 ms; until then it says so through status
// (at once and then every minute) and the log. It returns ctx's error when
// ctx ends first (SIGTERM). Opening Pebble writes (a new WAL, OPTIONS, the
// record), which a full disk may fail or crash, so a node waits here
// before New.
func WaitForSpace(ctx context.Context, cfg Config, status func(line string)) error {
	if cfg.MinFree == 0 {
		return nil
	}
	dir := existingParent(cfg.DataDir)
	var last time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		free, err := tables.FreeBytes(dir)
		if err != nil {
			return err
		}
		if free >= cfg.MinFree {
			if !last.IsZero() {
				status(fmt.Sprintf("disk space returned (%d MiB free): opening data dir %s", free>>20, cfg.DataDir))
			}
			return nil
		}
		if now := time.Now(); now.Sub(last) >= spaceWaitLog {
			last = now
			line := fmt.Sprintf("waiting for disk space before opening data dir %s: %s; free space on its filesystem, or stop with SIGTERM", cfg.DataDir, tables.DiskFullText(free, cfg.MinFree))
			status(line)
			if cfg.Logger != nil {
				cfg.Logger.Warn(line)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped while waiting for disk space for data dir %s: %w", cfg.DataDir, ctx.Err())
		case <-tick.C:
		}
	}
}

// existingParent is dir, or its nearest ancestor that exists (a data dir
// not made yet).
func existingParent(dir string) string {
	d := filepath.Clean(dir)
	for {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return d
		}
		d = up
	}
}
