package actors

import (
	"slices"
	"sync"
	"time"
)

// latencyWindow is how many recent produce-to-visible samples a partition
// keeps for its percentiles.
const latencyWindow = 4096

// PartitionStats are one partition's counters. The partition actor writes
// them; commands read a Snapshot.
type PartitionStats struct {
	mu sync.Mutex
	c  PartitionCounters
	// ring of recent produce-to-visible latencies, in ms
	lat  [latencyWindow]int32
	nlat int
	hwAt time.Time // when the recorded high watermark was read
	// lastDelay is the produce-to-visible delay of the oldest record of
	// the last batch that became visible, at lastAt (its commit).
	lastDelay time.Duration
	lastAt    time.Time
}

// PartitionCounters is a snapshot of a partition's counters.
type PartitionCounters struct {
	Topic         string
	Partition     int32
	LowWater      int64 // next offset not yet durable in every table; -1 unknown
	HighWatermark int64 // from fetch responses and a periodic read; -1 unknown
	Messages      int64
	Rows          int64
	Errors        int64
	ErrorsBy      map[string]int64
	UTF8Repaired  int64 // messages stored with invalid UTF-8 replaced by U+FFFD
	LastMessage   time.Time
	LastError     time.Time
	LastErrorText string
	Paused        bool
	DiskFull      bool   // paused while the disk is below --min-free
	Stopped       string // why the partition stopped (errors = fail)
	// Changed says why the partition stopped because its topic changed
	// under the node (re-created, or the stored offset outside the log),
	// with the offsets; "" while it consumes.
	Changed  string
	P50, P99 time.Duration
	Samples  int
}

func newPartitionStats(topic string, partition int32) *PartitionStats {
	return &PartitionStats{c: PartitionCounters{Topic: topic, Partition: partition, LowWater: -1, HighWatermark: -1, ErrorsBy: map[string]int64{}}}
}

func (s *PartitionStats) message(now time.Time) {
	s.mu.Lock()
	s.c.Messages++
	s.c.LastMessage = now
	s.mu.Unlock()
}

func (s *PartitionStats) accept(rows int) {
	s.mu.Lock()
	s.c.Rows += int64(rows)
	s.mu.Unlock()
}

func (s *PartitionStats) repaired() {
	s.mu.Lock()
	s.c.UTF8Repaired++
	s.mu.Unlock()
}

func (s *PartitionStats) reject(now time.Time, reason, detail string) {
	s.mu.Lock()
	s.c.Errors++
	s.c.ErrorsBy[reason]++
	s.c.LastError = now
	s.c.LastErrorText = detail
	s.mu.Unlock()
}

func (s *PartitionStats) visible(stamps []int64, commitMs int64) {
	s.mu.Lock()
	var most int64
	for _, st := range stamps {
		d := commitMs - st
		if d < 0 {
			d = 0
		}
		if d > 1<<31-1 {
			d = 1<<31 - 1
		}
		most = max(most, d)
		s.lat[s.nlat%latencyWindow] = int32(d)
		s.nlat++
	}
	if len(stamps) > 0 {
		s.lastDelay, s.lastAt = time.Duration(most)*time.Millisecond, time.UnixMilli(commitMs)
	}
	s.mu.Unlock()
}

// behind reports whether the last batch that became visible, after since,
// held a record older than over when it did.
func (s *PartitionStats) behind(over time.Duration, since time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAt.After(since) && s.lastDelay > over
}

func (s *PartitionStats) setLowWater(lwm int64) {
	s.mu.Lock()
	s.c.LowWater = lwm
	s.mu.Unlock()
}

// setHighWatermark records a high watermark read at time at (when the read
// was sent, or when a fetch response arrived); a read older than the one
// recorded is ignored, so a slow periodic read cannot overwrite what a
// fetch just saw.
func (s *PartitionStats) setHighWatermark(hw int64, at time.Time) {
	s.mu.Lock()
	if !at.Before(s.hwAt) {
		s.c.HighWatermark, s.hwAt = hw, at
	}
	s.mu.Unlock()
}

func (s *PartitionStats) setPaused(p bool) {
	s.mu.Lock()
	s.c.Paused = p
	s.mu.Unlock()
}

func (s *PartitionStats) setDiskFull(full bool) {
	s.mu.Lock()
	s.c.DiskFull = full
	s.mu.Unlock()
}

func (s *PartitionStats) setChanged(why string) {
	s.mu.Lock()
	s.c.Changed = why
	s.mu.Unlock()
}

func (s *PartitionStats) setStopped(why string) {
	s.mu.Lock()
	s.c.Stopped = why
	s.mu.Unlock()
}

// Snapshot copies the counters and computes the latency percentiles.
func (s *PartitionStats) Snapshot() PartitionCounters {
	s.mu.Lock()
	c := s.c
	c.ErrorsBy = make(map[string]int64, len(s.c.ErrorsBy))
	for k, v := range s.c.ErrorsBy {
		c.ErrorsBy[k] = v
	}
	n := min(s.nlat, latencyWindow)
	lat := slices.Clone(s.lat[:n])
	s.mu.Unlock()
	if n > 0 {
		slices.Sort(lat)
		c.P50 = time.Duration(lat[(n-1)*50/100]) * time.Millisecond
		c.P99 = time.Duration(lat[(n-1)*99/100]) * time.Millisecond
		c.Samples = n
	}
	return c
}

// Lag is the high watermark minus the low-water mark when both are known,
// else -1. It is not clamped: a stored offset above a fresh high watermark
// means the topic changed under the node, and shows.
func (c PartitionCounters) Lag() int64 {
	if c.HighWatermark < 0 || c.LowWater < 0 {
		return -1
	}
	return c.HighWatermark - c.LowWater
}

// KnownLag is the high watermark minus the low-water mark and whether both
// are known; it may be negative (a topic that changed under the node).
func (c PartitionCounters) KnownLag() (int64, bool) {
	if c.HighWatermark < 0 || c.LowWater < 0 {
		return 0, false
	}
	return c.HighWatermark - c.LowWater, true
}
