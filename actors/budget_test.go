package actors

import (
	"context"
	"testing"
	"time"
)

func TestFetchBudget(t *testing.T) {
	b := newFetchBudget(100)
	f1, f2 := b.flow(), b.flow()
	ctx := context.Background()
	if !f1.take(ctx, 60) || !f2.take(ctx, 60) {
		t.Fatal("takes under the budget (the second overshoots it) must pass")
	}
	if st := b.status(); st.Held != 120 || st.Max != 100 || st.Waits != 0 {
		t.Fatalf("status %+v", st)
	}
	// Spent: a take waits until a give-back brings it under the budget.
	got := make(chan bool)
	go func() { got <- f1.take(ctx, 10) }()
	waitFor(t, "the take to wait", func() bool { return b.status().Waits == 1 })
	f2.give(10) // 110: still spent
	select {
	case <-got:
		t.Fatal("a take passed with the budget still spent")
	case <-time.After(20 * time.Millisecond):
	}
	f1.give(60) // 50
	if ok := <-got; !ok {
		t.Fatal("the take failed after the give-back")
	}
	if st := b.status(); st.Held != 60 {
		t.Fatalf("held %d, want 60 (f1 10, f2 50)", st.Held)
	}
	// Closing a flow gives back what it held; its later takes fail and its
	// gives do nothing.
	f2.close()
	if st := b.status(); st.Held != 10 {
		t.Fatalf("held %d after closing f2, want 10", st.Held)
	}
	f2.give(50)
	if f2.take(ctx, 1) {
		t.Fatal("a closed flow took")
	}
	if st := b.status(); st.Held != 10 {
		t.Fatalf("held %d after a closed flow's give, want 10", st.Held)
	}
	// A give beyond what the flow holds cannot drive the budget negative.
	f1.give(1000)
	if st := b.status(); st.Held != 0 {
		t.Fatalf("held %d, want 0", st.Held)
	}
}

func TestFetchBudgetWaitEndsWithContextOrClose(t *testing.T) {
	b := newFetchBudget(10)
	f := b.flow()
	if !f.take(context.Background(), 10) {
		t.Fatal("first take")
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan bool)
	go func() { got <- f.take(ctx, 1) }()
	waitFor(t, "the take to wait", func() bool { return b.status().Waits == 1 })
	cancel()
	if <-got {
		t.Fatal("a take passed after its context ended")
	}
	g := b.flow()
	go func() { got <- g.take(context.Background(), 1) }()
	waitFor(t, "the second take to wait", func() bool { return b.status().Waits == 2 })
	g.close()
	if <-got {
		t.Fatal("a take of a closed flow passed")
	}
	if newFetchBudget(0).max != DefaultFetchBudget {
		t.Fatal("0 must mean the default budget")
	}
}
