package actortest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/actors/actortest"
)

// TestSlowMappingKeepsTheBacklogInKafka: when mapping falls behind the
// fetch (here it stops: a decode hook waits), fetching pauses instead of
// buffering the topic's backlog in memory; once mapping goes on, every
// message is stored once.
func TestSlowMappingKeepsTheBacklogInKafka(t *testing.T) {
	var decodes atomic.Int64
	var hold atomic.Bool
	hold.Store(true)
	hooks := &actors.TestHooks{Decode: func(string, int32) {
		decodes.Add(1)
		for hold.Load() {
			time.Sleep(time.Millisecond)
		}
	}}
	h := actortest.Start(t, hooks)
	const n, batch = 400_000, 50_000
	pad := strings.Repeat("x", 180)
	for from := 0; from < n; from += batch {
		vals := make([][]byte, batch)
		for i := range vals {
			vals[i] = fmt.Appendf(nil, `{"v":%d,"pad":"%s"}`, from+i, pad)
		}
		h.Produce("in", vals...)
	}
	backlog := uint64(n * (len(pad) + 20))
	heapInUse := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	base := heapInUse()
	h.RunConsumer(1, actortest.Topic{Name: "in", DBMS: "d", Table: "t"})
	h.WaitFor(30*time.Second, func() bool { return decodes.Load() > 0 }, "mapping to start")
	// Mapping is stopped: give the fetch a second to run ahead if it would.
	var peak uint64
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		peak = max(peak, heapInUse())
	}
	if grew := int64(peak) - int64(base); grew > int64(backlog/3) {
		t.Errorf("the heap grew by %d MiB (the backlog is %d MiB) while mapping was stopped: the backlog is being buffered", grew>>20, backlog>>20)
	} else {
		t.Logf("the heap grew by %d MiB while mapping was stopped (the backlog is %d MiB)", grew>>20, backlog>>20)
	}
	hold.Store(false)
	waitAllOnce(t, h, "d", "t", n)
}
