package node

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/confine"
)

// backupDir resolves --backup-dir: by default the data dir's path with
// "-backups" appended, so that copies sit beside the data dir. It may not
// hold the data dir or lie inside it (a copy would contain copies, and Pebble
// shares its dir with nothing), nor overlap the files or secrets dirs.
func backupDir(cfg Config, files, secrets confine.Dir) (confine.Dir, error) {
	d := confine.Dir{Path: cfg.BackupDir, Flag: "--backup-dir", Create: true}
	if d.Path == "" {
		d.Path = filepath.Clean(cfg.DataDir) + "-backups"
	}
	in, err := confine.Within(d.Path, cfg.DataDir)
	if err != nil {
		return d, err
	}
	holds, err := confine.Within(cfg.DataDir, d.Path)
	if err != nil {
		return d, err
	}
	if in || holds {
		return d, fmt.Errorf("--backup-dir %s and the data dir %s overlap: give backups a directory beside the data dir", d.Path, cfg.DataDir)
	}
	for _, o := range []confine.Dir{files, secrets} {
		if err := confine.Overlap(d, o); err != nil {
			return d, err
		}
	}
	return d, nil
}

// backup runs `backup where dir = NAME`.
func (n *Node) backup(r *command.Backup) Result {
	var took time.Duration
	var tablesN, filesN int
	var bytes int64
	path, err := n.backups.NewDir(r.Dir, func(tmp string) error {
		info, err := n.store.Backup(tmp)
		tablesN, filesN, bytes, took = info.Tables, info.Files, info.Bytes, info.Took
		return err
	})
	if err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	return text(fmt.Sprintf("backup written to %s: %d table(s), %d files, %d bytes in %s; start a node with --data-dir %s (and a new group for its consumers) to use it",
		path, tablesN, filesN, bytes, took.Round(time.Millisecond), path))
}
