package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakenode/lakenode/kafka/kafkatest"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/tablestest"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it when the test ends (after the nodes started later are gone). It needs
// root; without it the test fails saying so.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this test mounts a size-limited tmpfs (mount -t tmpfs -o size=%s) to fill the data dir's disk, which needs root; CI runs as root: run the integration suite as root", size)
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs -o size=%s tmpfs %s: %v: %s", size, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillTo writes a filler file until the filesystem of dir has at most free
// bytes left.
func fillTo(t *testing.T, dir, filler string, free uint64) {
	t.Helper()
	f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 256<<10)
	for range 4096 { // at most 1 GiB: bounded
		now, err := tables.FreeBytes(dir)
		if err != nil {
			t.Fatal(err)
		}
		if now <= free {
			return
		}
		n := min(uint64(len(chunk)), now-free)
		if _, err := f.Write(chunk[:n]); err != nil {
			t.Fatalf("filling %s: %v", filler, err)
		}
	}
	t.Fatalf("%s did not fill up", dir)
}

// diskPartitions reads the partitions of get msg client's JSON.
type diskPartition struct {
	Partition     int32  `json:"partition"`
	StoredOffset  int64  `json:"stored_offset"`
	HighWatermark int64  `json:"high_watermark"`
	Paused        bool   `json:"paused"`
	PausedReason  string `json:"paused_reason"`
}

func msgClientPartitions(t *testing.T, n *nodeProc) (state, detail string, parts []diskPartition) {
	t.Helper()
	var subs []struct {
		State      string          `json:"state"`
		Detail     string          `json:"detail"`
		Partitions []diskPartition `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(n.mustExec("get msg client where format = json")), &subs); err != nil || len(subs) != 1 {
		t.Fatalf("get msg client as JSON: %v (%d subscriptions)", err, len(subs))
	}
	return subs[0].State, subs[0].Detail, subs[0].Partitions
}

// TestDiskFull runs a node on a 64 MiB tmpfs with --min-free 24MiB. A
// filler file takes the disk below the minimum during ingest: every
// partition pauses with the disk-full status in get processes, get msg
// client and /metrics, queries keep working, and once the filler is gone
// ingest resumes by itself. Then the disk fills again while messages wait,
// SIGTERM stops the paused node, and the node started on the full disk
// waits with the status and stops on SIGTERM. With space back it starts and
// catches up: every produced message is in the table exactly once.
func TestDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "64m")
	dataDir, filler := filepath.Join(mnt, "data"), filepath.Join(mnt, "filler")
	const minFree = 24 << 20
	b := kafkatest.Shared(t)
	topic := "disk_" + t.Name()
	kafkatest.CreateTopic(t, b, topic, 4)
	host, port, _ := net.SplitHostPort(b.Addr())
	script := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and group = g_%s and topic = (name = %s and dbms = disk and table = events and column.timestamp.timestamp = "bring [timestamp]" and column.seq.int = "bring [seq]")`, host, port, t.Name(), topic)
	n := startNode(t, "diskfull", dataDir, script, "--min-free", "24MiB")
	ts := time.Now()
	produce := func(from, to int) {
		t.Helper()
		vals := make([][]byte, 0, to-from)
		for i := from; i < to; i++ {
			vals = append(vals, pingMessage(i, ts))
		}
		if err := kafkatest.ProduceValues(b, topic, vals...); err != nil {
			t.Fatal(err)
		}
	}
	const step = 10_000
	produce(0, step)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("disk", "events") == step }, "the first %d rows", step)

	// The disk goes below --min-free while the consumer runs.
	fillTo(t, mnt, filler, 256<<10)
	filledAt := time.Now()
	waitFor(t, 10*time.Second, func() bool {
		return strings.Contains(n.mustExec("get processes"), "disk full (") && n.metric("lakenode_ingest_paused_disk_full") == 1
	}, "get processes and /metrics to say disk full")
	pausedIn := time.Since(filledAt)
	procs := n.mustExec("get processes")
	for _, want := range []string{"Paused", "--min-free 24 MiB)", "ingest resumes by itself"} {
		if !strings.Contains(procs, want) {
			t.Fatalf("get processes on a full disk lacks %q:\n%s", want, procs)
		}
	}
	if free := n.metric("lakenode_disk_free_bytes"); free <= 0 || free >= minFree {
		t.Fatalf("lakenode_disk_free_bytes = %v on a disk filled below %d", free, minFree)
	}
	if got := n.metric("lakenode_disk_min_free_bytes"); got != minFree {
		t.Fatalf("lakenode_disk_min_free_bytes = %v, want %d", got, minFree)
	}
	// More messages arrive: every partition is paused for the disk, the
	// high watermarks show them waiting (lag), and none is stored.
	produce(step, 2*step)
	waitPaused := func() {
		t.Helper()
		waitFor(t, 20*time.Second, func() bool {
			_, _, parts := msgClientPartitions(t, n)
			lag, paused := int64(0), 0
			for _, p := range parts {
				if p.Paused && p.PausedReason == "disk full" {
					paused++
				}
				lag += p.HighWatermark - p.StoredOffset
			}
			return len(parts) == 4 && paused == 4 && lag == step
		}, "all 4 partitions paused for the disk with a lag of %d", step)
	}
	waitPaused()
	state, detail, _ := msgClientPartitions(t, n)
	if state != "paused" || !strings.Contains(detail, "disk full (") {
		t.Fatalf("get msg client: state %q, detail %q", state, detail)
	}
	if text := n.mustExec("get msg client"); !strings.Contains(text, "paused: disk full (") {
		t.Fatalf("get msg client's partitions do not say paused: disk full:\n%s", text)
	}
	// Queries keep working, and nothing of the second batch was written.
	if q := n.mustExec(`sql disk format = json and stat = false "select count(*) from events"`); !strings.Contains(q, fmt.Sprintf(`"count(*)": %d`, step)) {
		t.Fatalf("a query on a full disk: %s", q)
	}
	if got := n.rowCount("disk", "events"); got != step {
		t.Fatalf("%d rows stored on a full disk, want %d", got, step)
	}

	// Space returns: ingest resumes by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	waitFor(t, 30*time.Second, func() bool { return n.rowCount("disk", "events") == 2*step }, "ingest to resume to %d rows", 2*step)
	resumedIn := time.Since(freedAt)
	if n.metric("lakenode_ingest_paused_disk_full") != 0 || strings.Contains(n.mustExec("get processes"), "disk full") {
		t.Fatal("the disk-full status stays after space returned")
	}
	if !strings.Contains(n.logTail(), "ingest paused: disk full (") {
		t.Fatalf("the log does not say ingest paused:\n%s", n.logTail())
	}

	// The disk fills again while messages wait; SIGTERM stops the paused
	// node promptly (what was not committed is consumed again later).
	fillTo(t, mnt, filler, 256<<10)
	waitFor(t, 10*time.Second, func() bool { return n.metric("lakenode_ingest_paused_disk_full") == 1 }, "the second pause")
	produce(2*step, 3*step)
	waitPaused()
	pausedStop := time.Now()
	n.stop()
	pausedStopIn := time.Since(pausedStop)

	// A restart on the full disk waits with the status and stops on SIGTERM.
	logPath := filepath.Join(t.TempDir(), "waiting.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(n.bin, "--serve", "--name", n.name, "--data-dir", dataDir, "--http", n.http, "--listen", n.listen, "--pg", "127.0.0.1:0", "--log-level", "info", "-f", n.script, "--min-free", "24MiB")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	waitFor(t, 20*time.Second, func() bool {
		return strings.Contains(readLog(), "waiting for disk space") && strings.Contains(readLog(), "--min-free 24 MiB)")
	}, "the node started on a full disk to say it waits")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	termAt := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the waiting node exited with %v after SIGTERM:\n%s", err, readLog())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the waiting node did not stop within 10 s of SIGTERM:\n%s", readLog())
	}
	stoppedIn := time.Since(termAt)

	// Space returns: the node starts, catches up, and every message is
	// stored once.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	n.restart()
	waitFor(t, 30*time.Second, func() bool { return n.rowCount("disk", "events") == 3*step }, "the restarted node to catch up to %d rows", 3*step)
	n.mustExec("flush buffers")
	n.stop()
	s := tablestest.OpenDir(t, dataDir)
	tbl, ok := s.Table("disk", "events")
	if !ok {
		t.Fatal("no disk.events")
	}
	seqCol := tbl.ColumnIndex("seq")
	seen := make([]int, 3*step)
	rows := tablestest.Dump(t, s, "disk", "events")
	for _, row := range rows {
		seq := row[seqCol].I
		if seq < 0 || seq >= 3*step {
			t.Fatalf("unexpected seq %d", seq)
		}
		seen[seq]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d is stored %d times (%d rows)", i, c, len(rows))
		}
	}
	if _, ok := s.Table("lakenode", "kafka_errors"); ok {
		t.Fatal("messages were rejected into lakenode.kafka_errors")
	}
	t.Logf("disk-full figures: %d messages, %d rows, 0 errors; paused %v after the disk filled, resumed to all rows %v after space returned; a paused node stopped %v after SIGTERM, one waiting at start-up %v",
		3*step, len(rows), pausedIn.Round(time.Millisecond), resumedIn.Round(time.Millisecond), pausedStopIn.Round(time.Millisecond), stoppedIn.Round(time.Millisecond))
}
