package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// TestBackupWhileIngesting takes a backup while a node ingests, keeps
// producing, then starts a second node on the copy with a new group and
// reset = earliest: it resumes from the copy's own offsets, so once it has
// caught up every message is in its table exactly once.
func TestBackupWhileIngesting(t *testing.T) {
	b := kafkatest.Shared(t)
	topic := "backup_" + t.Name()
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	consumer := func(group string) string {
		return fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = %s and topic = (name = %s and dbms = bk and table = events and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, group, topic)
	}
	backups := filepath.Join(t.TempDir(), "backups")
	n := startNode(t, "origin", filepath.Join(t.TempDir(), "data"), consumer("origin_"+t.Name()), "--backup-dir", backups)

	// A steady producer (1,000 messages every 50 ms, 80,000 in all), so
	// the backup is taken while messages arrive and ingest runs.
	const batchSize, batches = 1000, 80
	const total = batchSize * batches
	now := time.Now()
	produced := make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for k := range batches {
			vals := make([][]byte, 0, batchSize)
			for i := k * batchSize; i < (k+1)*batchSize; i++ {
				vals = append(vals, pingMessage(i, now))
			}
			if err := kafkatest.ProduceValues(b, topic, vals...); err != nil {
				produced <- err
				return
			}
			<-tick.C
		}
		produced <- nil
	}()
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("bk", "events") > total/8 }, "ingest to run before the backup")

	// A name that leaves --backup-dir is refused and writes nothing.
	for _, bad := range []string{"../escape", "/tmp/escape-" + t.Name()} {
		r := n.exec("backup where dir = " + bad)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "--backup-dir") {
			t.Fatalf("backup where dir = %s: status %d: %s", bad, r.Status, r.Body)
		}
	}
	if _, err := os.Stat(filepath.Join(backups, "..", "escape")); err == nil {
		t.Fatal("a backup escaped --backup-dir")
	}

	before := n.rowCount("bk", "events")
	out := n.mustExec("backup where dir = mid-ingest")
	after := n.rowCount("bk", "events")
	t.Logf("%s (rows before %d, after %d)", strings.TrimSpace(out), before, after)
	select {
	case err := <-produced:
		t.Fatalf("the producer finished before the backup (%v): not a backup during ingest", err)
	default:
	}
	if r := n.exec("backup where dir = mid-ingest"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "already exists") {
		t.Fatalf("a second backup to the same name: status %d: %s", r.Status, r.Body)
	}
	copyDir := filepath.Join(backups, "mid-ingest")
	if _, err := os.Stat(filepath.Join(copyDir, "lakenode-record.json")); err != nil {
		t.Fatalf("the copy has no record: %v", err)
	}
	// The producer keeps going after the backup.
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 120*time.Second, func() bool { return n.rowCount("bk", "events") >= total }, "the origin to store all %d", total)
	if got := n.rowCount("bk", "events"); got != total {
		t.Fatalf("origin: %d rows, want %d", got, total)
	}
	n.stop()

	// The restore: a node on the copy, a new group, reset = earliest.
	r := startNode(t, "restored", copyDir, consumer("restored_"+t.Name()))
	start := r.rowCount("bk", "events")
	if start < before || start >= total {
		t.Fatalf("the copy starts with %d rows; the origin had %d just before the backup", start, before)
	}
	waitFor(t, 120*time.Second, func() bool { return r.rowCount("bk", "events") >= total }, "the restored node to catch up to %d", total)
	// Stop it cleanly and read its store: every message exactly once.
	r.mustExec("flush buffers")
	r.stop()
	s := tablestest.OpenDir(t, copyDir)
	tbl, ok := s.Table("bk", "events")
	if !ok {
		t.Fatal("the copy has no bk.events")
	}
	seqCol := tbl.ColumnIndex("seq")
	seen := make([]int, total)
	rows := tablestest.Dump(t, s, "bk", "events")
	for _, row := range rows {
		seq := row[seqCol].I
		if seq < 0 || seq >= total {
			t.Fatalf("unexpected seq %d", seq)
		}
		seen[seq]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d is in the restored table %d times (rows %d)", i, c, len(rows))
		}
	}
	t.Logf("backup figures: %d rows in the copy at start, %d after catching up, all %d messages once", start, len(rows), total)
}
