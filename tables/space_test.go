package tables

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDisk is a filesystem whose free space and clock a test sets.
type fakeDisk struct {
	mu    sync.Mutex
	free  uint64
	err   error
	reads int
	now   time.Time
}

func (d *fakeDisk) statfs(string) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads++
	return d.free, d.err
}

func (d *fakeDisk) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *fakeDisk) set(free uint64, err error, advance time.Duration) {
	d.mu.Lock()
	d.free, d.err = free, err
	d.now = d.now.Add(advance)
	d.mu.Unlock()
}

// A sequence of readings: full below the minimum, room again at or above
// it, a failed reading keeps the last state, and readings within 100 ms of
// the last one are not taken again.
func TestSpaceReadings(t *testing.T) {
	const mib = 1 << 20
	disk := &fakeDisk{now: time.Unix(1000, 0), free: 100 * mib}
	sp := newSpace("/data", 16*mib, disk.statfs, disk.clock)
	var events []bool
	cancel := sp.Watch(func(full bool) { events = append(events, full) })
	steps := []struct {
		name    string
		free    uint64
		err     error
		advance time.Duration
		full    bool
		text    string
		reads   int // statfs calls so far
	}{
		{"plenty", 100 * mib, nil, 0, false, "", 1},
		{"cached within 100 ms", 1 * mib, nil, 50 * time.Millisecond, false, "", 1},
		{"read again after 100 ms", 1 * mib, nil, 60 * time.Millisecond, true, "disk full (1 MiB free, --min-free 16 MiB)", 2},
		{"below 1 MiB shows KiB", 300 << 10, nil, 200 * time.Millisecond, true, "disk full (300 KiB free, --min-free 16 MiB)", 3},
		{"failed reading keeps the state", 0, errors.New("statfs: EIO"), 200 * time.Millisecond, true, "disk full (300 KiB free, --min-free 16 MiB)", 4},
		{"exactly the minimum is room", 16 * mib, nil, 200 * time.Millisecond, false, "", 5},
		{"full again", 16*mib - 1, nil, 200 * time.Millisecond, true, "disk full (15 MiB free, --min-free 16 MiB)", 6},
		{"freed", 40 * mib, nil, 200 * time.Millisecond, false, "", 7},
	}
	for _, st := range steps {
		disk.set(st.free, st.err, st.advance)
		got := sp.Status()
		if got.Full != st.full || got.Text() != st.text || disk.reads != st.reads {
			t.Fatalf("%s: full %v text %q reads %d; want %v %q %d", st.name, got.Full, got.Text(), disk.reads, st.full, st.text, st.reads)
		}
		err := sp.Check()
		var de *DiskFullError
		if st.full != errors.As(err, &de) {
			t.Fatalf("%s: Check() = %v", st.name, err)
		}
		if de != nil && (!strings.Contains(de.Error(), st.text) || !strings.Contains(de.Error(), "/data")) {
			t.Fatalf("%s: error %q lacks %q or the dir", st.name, de.Error(), st.text)
		}
	}
	// One event per change of state, none for readings that keep it.
	want := []bool{true, false, true, false}
	if len(events) != len(want) {
		t.Fatalf("watch events %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("watch events %v, want %v", events, want)
		}
	}
	cancel()
	disk.set(0, nil, time.Second)
	sp.Status()
	if len(events) != len(want) {
		t.Fatalf("an event after cancel: %v", events)
	}
}

// Without a minimum nothing is read and every check passes.
func TestSpaceOff(t *testing.T) {
	disk := &fakeDisk{now: time.Unix(1000, 0)}
	sp := newSpace("/data", 0, disk.statfs, disk.clock)
	if err := sp.Check(); err != nil || disk.reads != 0 || sp.Status().Checked {
		t.Fatalf("Check() = %v after %d reads", err, disk.reads)
	}
	var nilSpace *Space
	if err := nilSpace.Check(); err != nil {
		t.Fatal(err)
	}
}

// The poller tells watchers about a full disk when nothing writes.
func TestSpacePoll(t *testing.T) {
	disk := &fakeDisk{free: 1 << 30}
	sp := newSpace(t.TempDir(), 1<<20, disk.statfs, time.Now)
	got := make(chan bool, 4)
	defer sp.Watch(func(full bool) { got <- full })()
	stop := make(chan struct{})
	defer close(stop)
	go sp.poll(stop)
	disk.set(10, nil, 0)
	select {
	case full := <-got:
		if !full {
			t.Fatal("the first event says room")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s of the disk filling")
	}
}

// FreeBytes reads a real filesystem.
func TestFreeBytes(t *testing.T) {
	n, err := FreeBytes(t.TempDir())
	if err != nil || n == 0 {
		t.Fatalf("FreeBytes = %d, %v", n, err)
	}
	if _, err := FreeBytes("/nonexistent/lakenode"); err == nil {
		t.Fatal("no error for a missing dir")
	}
}
