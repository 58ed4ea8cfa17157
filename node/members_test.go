package node

import (
	"fmt"
	"testing"
	"time"
)

// A learned address is a candidate for one ping: it joins the pinged
// addresses when that ping answers, else it is forgotten and not learned
// again for candidateRetry.
func TestLearnVerifyForget(t *testing.T) {
	n := &Node{cfg: Config{ListenAddr: "127.0.0.1:1", Seeds: []string{"127.0.0.1:2"}}}
	n.members.peers, n.members.known = map[string]*member{}, map[string]bool{"127.0.0.1:2": true}
	state := func(addr string) string {
		n.members.mu.Lock()
		defer n.members.mu.Unlock()
		switch {
		case n.members.known[addr]:
			return "known"
		case n.members.candidates[addr]:
			return "candidate"
		}
		return "none"
	}
	steps := []struct {
		name string
		do   func()
		addr string
		want string
	}{
		{"self is never learned", func() { n.learn("127.0.0.1:1") }, "127.0.0.1:1", "none"},
		{"empty is never learned", func() { n.learn("") }, "", "none"},
		{"a seed stays known", func() { n.learn("127.0.0.1:2") }, "127.0.0.1:2", "known"},
		{"a new address is a candidate", func() { n.learn("10.9.9.9:1") }, "10.9.9.9:1", "candidate"},
		{"no answer: forgotten", func() { n.verified("10.9.9.9:1", false) }, "10.9.9.9:1", "none"},
		{"named again at once: ignored", func() { n.learn("10.9.9.9:1") }, "10.9.9.9:1", "none"},
		{"named again later: one more try", func() {
			n.members.mu.Lock()
			n.members.failed["10.9.9.9:1"] = time.Now().Add(-candidateRetry - time.Second)
			n.members.mu.Unlock()
			n.learn("10.9.9.9:1")
		}, "10.9.9.9:1", "candidate"},
		{"an answer: known", func() { n.verified("10.9.9.9:1", true) }, "10.9.9.9:1", "known"},
		{"it leaves: forgotten", func() { n.forget("10.9.9.9:1") }, "10.9.9.9:1", "none"},
		{"a seed that leaves stays known", func() { n.forget("127.0.0.1:2") }, "127.0.0.1:2", "known"},
	}
	for _, s := range steps {
		s.do()
		if got := state(s.addr); got != s.want {
			t.Fatalf("%s: %s is %s, want %s", s.name, s.addr, got, s.want)
		}
	}
	// Candidates are bounded.
	for i := range 2 * maxCandidates {
		n.learn(fmt.Sprintf("10.0.%d.%d:1", i/256, i%256))
	}
	if len(n.members.candidates) > maxCandidates {
		t.Fatalf("%d candidates, want at most %d", len(n.members.candidates), maxCandidates)
	}
}
