package tables

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSealPauseEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// A hundredth of a core after a second's work: a 99 s pause.
	sr := &sealRun{ctx: ctx, share: 0.01, busy: time.Now().Add(-time.Second)}
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
	for _, share := range []float64{0, 1} {
		sr := &sealRun{ctx: context.Background(), share: share, busy: time.Now().Add(-time.Hour)}
		done := make(chan error, 1)
		go func() { done <- sr.pause() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("share %v: paused, want no pause", share)
		}
	}
}
