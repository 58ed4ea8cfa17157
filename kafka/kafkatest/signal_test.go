package kafkatest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A paused broker does not answer; resumed, it answers again with its
// records. An external or stopped broker cannot be paused.
func TestPauseResume(t *testing.T) {
	b := StartKfake(t)
	Produce(t, b, "paused", values(0, 10)...)
	if err := b.Pause(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := answersMetadata(ctx, b.Addr())
	cancel()
	if err == nil {
		_ = b.Resume()
		t.Fatal("a paused broker answered a metadata request")
	}
	if err := b.Resume(); err != nil {
		t.Fatal(err)
	}
	wantEndTotal(t, b, "paused", 4, 10)

	ext := &Broker{kind: KindExternal, addr: b.Addr()}
	if err := ext.Pause(); err == nil || !strings.Contains(err.Error(), "external") {
		t.Fatalf("Pause of an external broker: %v", err)
	}
	b.Stop()
	if err := b.Pause(); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("Pause of a stopped broker: %v", err)
	}
}
