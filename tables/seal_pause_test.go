package tables

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestSealPauseEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// A hundredth of a core (clamped to a twentieth) after a second's
	// work: a 19 s pause.
	sr := &sealRun{ctx: ctx, share: func() float64 { return 0.01 }, busy: time.Now().Add(-time.Second)}
	done := make(chan error, 1)
	go func() { done <- sr.pause() }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("pause = %v, want the context's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pause did not end with its context")
	}
}

func TestSealPauseNotWhenTheShareIsWhole(t *testing.T) {
	whole := func() float64 { return 1 }
	for _, share := range []func() float64{nil, whole} {
		sr := &sealRun{ctx: context.Background(), share: share, busy: time.Now().Add(-time.Hour)}
		done := make(chan error, 1)
		go func() { done <- sr.pause() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("share func %v: paused, want no pause", share != nil)
		}
	}
}

// The share is asked at each pause, so that a pass yields as soon as
// ingest falls behind, and a whole share restarts the busy clock.
func TestSealPauseAsksTheShareEachTime(t *testing.T) {
	var asked int
	shares := []float64{1, 0.5}
	sr := &sealRun{ctx: context.Background(), share: func() float64 { asked++; return shares[min(asked, len(shares))-1] }, busy: time.Now().Add(-time.Hour)}
	if err := sr.pause(); err != nil {
		t.Fatal(err)
	}
	if asked != 1 {
		t.Fatalf("a pause at a whole share asked the share %d times, want 1", asked)
	}
	if time.Since(sr.busy) > time.Minute {
		t.Fatal("a pause at a whole share did not restart the busy clock")
	}
	sr.busy = time.Now().Add(-20 * time.Millisecond)
	start := time.Now()
	if err := sr.pause(); err != nil {
		t.Fatal(err)
	}
	if asked < 2 {
		t.Fatalf("share asked %d times in two pauses, want at least 2", asked)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("paused %v at half a core after 20 ms of work, want at least 20 ms", d)
	}
}

// A pause set while ingest was behind (a twentieth of a core after a
// second's work: 19 s) ends soon after the share rises to half a core,
// which that work has already paid for.
func TestSealPauseEndsWhenTheShareRises(t *testing.T) {
	var behind atomic.Bool
	behind.Store(true)
	share := func() float64 {
		if behind.Load() {
			return 0.05
		}
		return 0.5
	}
	sr := &sealRun{ctx: context.Background(), share: share, busy: time.Now().Add(-time.Second)}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- sr.pause() }()
	select {
	case err := <-done:
		t.Fatalf("pause ended after %v (%v) while the share was a twentieth, want 19 s", time.Since(start), err)
	case <-time.After(300 * time.Millisecond):
	}
	behind.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pause went on 10 s after the share rose to half a core")
	}
}
