package tables

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Pebble cannot survive a failed write to its WAL (it panics in rotateWAL
// on a full disk), so lakenode never lets it get there: the store watches
// the free space of the data dir's filesystem and ingest pauses while it is
// below the configured minimum (--min-free).

// spaceMaxAge is how old a reading of the free space may be before a check
// reads it again; the store's poller refreshes it at this pace too.
const spaceMaxAge = 100 * time.Millisecond

// DiskFullError refuses a write while the data dir's filesystem has less
// free space than the minimum (--min-free).
type DiskFullError struct {
	Dir       string
	Free, Min uint64 // bytes
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("%s on the filesystem of %s", DiskFullText(e.Free, e.Min), e.Dir)
}

// DiskFullText is the status of a disk below the minimum, as `get
// processes`, `get msg client` and the log show it.
func DiskFullText(free, min uint64) string {
	return fmt.Sprintf("disk full (%s free, --min-free %s)", mibText(free), mibText(min))
}

// mibText shows bytes in whole MiB (rounded down), or KiB below 1 MiB so a
// nearly full disk does not read "0 MiB" while it has room.
func mibText(b uint64) string {
	if b < 1<<20 && b > 0 {
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d MiB", b>>20)
}

// FreeBytes is the space an unprivileged process may still write on the
// filesystem that holds path.
func FreeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("reading the free space of %s: %w", path, err)
	}
	// The fields' types differ by platform (Bsize is uint32 on macOS).
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// SpaceStatus is the last reading of a Space.
type SpaceStatus struct {
	Checked bool   // a minimum is set and the space is watched
	Free    uint64 // bytes free at the last reading
	Min     uint64 // the minimum (--min-free)
	Full    bool   // Free < Min: ingest is paused
	Since   time.Time
	Err     error // the last reading failed (the space counts as not full)
}

// Text is "disk full (N MiB free, --min-free M MiB)" when full, else "".
func (s SpaceStatus) Text() string {
	if !s.Full {
		return ""
	}
	return DiskFullText(s.Free, s.Min)
}

// Space watches the free space of the filesystem of a directory against a
// minimum. Readings are cached for spaceMaxAge, so a check before every
// write costs a statfs at most ten times a second. The zero minimum turns
// it off: every check passes.
type Space struct {
	dir    string
	min    uint64
	statfs func(string) (uint64, error)
	now    func() time.Time

	mu       sync.Mutex
	at       time.Time // when read; zero: never
	st       SpaceStatus
	watchers map[int]func(full bool)
	nextW    int
}

// NewSpace watches dir's filesystem against min bytes.
func NewSpace(dir string, min uint64) *Space {
	return newSpace(dir, min, FreeBytes, time.Now)
}

func newSpace(dir string, min uint64, statfs func(string) (uint64, error), now func() time.Time) *Space {
	return &Space{dir: dir, min: min, statfs: statfs, now: now, watchers: map[int]func(bool){},
		st: SpaceStatus{Checked: min > 0, Min: min}}
}

// Check returns a *DiskFullError while the free space is below the
// minimum, reading it again when the last reading is older than 100 ms.
func (s *Space) Check() error {
	st := s.Status()
	if st.Full {
		return &DiskFullError{Dir: s.dir, Free: st.Free, Min: st.Min}
	}
	return nil
}

// Status returns the current reading (read again when stale).
func (s *Space) Status() SpaceStatus {
	if s == nil || s.min == 0 {
		return SpaceStatus{}
	}
	s.mu.Lock()
	if !s.at.IsZero() && s.now().Sub(s.at) < spaceMaxAge {
		st := s.st
		s.mu.Unlock()
		return st
	}
	s.mu.Unlock()
	return s.refresh()
}

// refresh reads the free space and tells the watchers when the disk
// became full or stopped being full.
func (s *Space) refresh() SpaceStatus {
	free, err := s.statfs(s.dir)
	now := s.now()
	s.mu.Lock()
	prev := s.st
	s.at = now
	s.st.Err = err
	if err == nil {
		s.st.Free = free
		s.st.Full = free < s.min
	}
	changed := s.st.Full != prev.Full
	if changed || s.st.Since.IsZero() {
		s.st.Since = now
	}
	st := s.st
	var fns []func(bool)
	if changed {
		for _, fn := range s.watchers {
			fns = append(fns, fn)
		}
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(st.Full)
	}
	return st
}

// Watch calls fn whenever the disk becomes full (true) or has room again
// (false), from the goroutine that noticed; fn must not block. The returned
// func stops the calls.
func (s *Space) Watch(fn func(full bool)) (cancel func()) {
	if s == nil || s.min == 0 {
		return func() {}
	}
	s.mu.Lock()
	id := s.nextW
	s.nextW++
	s.watchers[id] = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}
}

// poll refreshes the reading every spaceMaxAge until stop closes, so the
// watchers learn of a full disk even when nothing writes.
func (s *Space) poll(stop <-chan struct{}) {
	t := time.NewTicker(spaceMaxAge)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.refresh()
		}
	}
}
