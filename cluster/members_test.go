package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
)

// A learned address is a candidate for one ping: it joins the pinged
// addresses when that ping answers, else it is forgotten and not learned
// again for candidateRetry.
func TestLearnVerifyForget(t *testing.T) {
	m := New(Config{Address: "127.0.0.1:1", Seeds: []string{"127.0.0.1:2"}})
	state := func(addr string) string {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch {
		case m.known[addr]:
			return "known"
		case m.candidates[addr]:
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
		{"self is never learned", func() { m.Learn("127.0.0.1:1") }, "127.0.0.1:1", "none"},
		{"empty is never learned", func() { m.Learn("") }, "", "none"},
		{"a seed stays known", func() { m.Learn("127.0.0.1:2") }, "127.0.0.1:2", "known"},
		{"a new address is a candidate", func() { m.Learn("10.9.9.9:1") }, "10.9.9.9:1", "candidate"},
		{"no answer: forgotten", func() { m.verified("10.9.9.9:1", false) }, "10.9.9.9:1", "none"},
		{"named again at once: ignored", func() { m.Learn("10.9.9.9:1") }, "10.9.9.9:1", "none"},
		{"named again later: one more try", func() {
			m.mu.Lock()
			m.failed["10.9.9.9:1"] = time.Now().Add(-candidateRetry - time.Second)
			m.mu.Unlock()
			m.Learn("10.9.9.9:1")
		}, "10.9.9.9:1", "candidate"},
		{"an answer: known", func() { m.verified("10.9.9.9:1", true) }, "10.9.9.9:1", "known"},
		{"it leaves: forgotten", func() { m.Forget("10.9.9.9:1") }, "10.9.9.9:1", "none"},
		{"a seed that leaves stays known", func() { m.Forget("127.0.0.1:2") }, "127.0.0.1:2", "known"},
		{"only the sender itself is learned from a ping", func() {
			m.HandleInfo(actor.NewPID("127.0.0.1:7", "x"), &actorpb.NodeInfoRequest{FromAddress: "127.0.0.1:8"})
		}, "127.0.0.1:8", "none"},
		{"a pinging node is a candidate", func() {
			m.HandleInfo(actor.NewPID("127.0.0.1:8", "x"), &actorpb.NodeInfoRequest{FromAddress: "127.0.0.1:8"})
		}, "127.0.0.1:8", "candidate"},
	}
	for _, s := range steps {
		s.do()
		if got := state(s.addr); got != s.want {
			t.Fatalf("%s: %s is %s, want %s", s.name, s.addr, got, s.want)
		}
	}
	// Candidates are bounded.
	for i := range 2 * maxCandidates {
		m.Learn(fmt.Sprintf("10.0.%d.%d:1", i/256, i%256))
	}
	if len(m.candidates) > maxCandidates {
		t.Fatalf("%d candidates, want at most %d", len(m.candidates), maxCandidates)
	}
}

// The table directory: live and lost peers hosting a table, by name; a
// peer leaving only for itself.
func TestDirectory(t *testing.T) {
	m := New(Config{Address: "127.0.0.1:1"})
	tab := []*actorpb.TableInfo{{Dbms: "d", Table: "t"}}
	m.peers["127.0.0.1:3"] = &Peer{Name: "c", Address: "127.0.0.1:3", Tables: tab, LastSeen: time.Now()}
	m.peers["127.0.0.1:2"] = &Peer{Name: "b", Address: "127.0.0.1:2", Tables: tab, LastSeen: time.Now()}
	m.peers["127.0.0.1:4"] = &Peer{Name: "d", Address: "127.0.0.1:4", Tables: tab, LastSeen: time.Now().Add(-2 * MemberTimeout)}
	m.peers["127.0.0.1:5"] = &Peer{Name: "e", Address: "127.0.0.1:5", LastSeen: time.Now()}
	live, lost := m.Hosts("d", "t")
	if got := fmt.Sprint(Names(live), Names(lost)); got != "[b c] [d]" {
		t.Fatalf("hosts of d.t: live and lost %s", got)
	}
	if live, lost := m.Hosts("d", "x"); len(live)+len(lost) != 0 {
		t.Fatalf("hosts of d.x: %v %v", Names(live), Names(lost))
	}
	if a, ok := m.Address("e"); !ok || a != "127.0.0.1:5" {
		t.Fatalf("address of e: %q %v", a, ok)
	}
	if name, ok := m.NameAt("127.0.0.1:4"); !ok || name != "d" {
		t.Fatalf("name at 127.0.0.1:4: %q %v", name, ok)
	}
	if _, ok := m.NameAt("127.0.0.1:9"); ok {
		t.Fatal("a name at an unknown address")
	}
	if _, ok := m.Address("d"); ok {
		t.Fatal("a lost peer is addressed by name")
	}
	m.HandleLeave(actor.NewPID("127.0.0.1:9", "x"), &actorpb.NodeLeave{Address: "127.0.0.1:2"})
	if len(m.Live()) != 3 {
		t.Fatal("a NodeLeave for another node's address was obeyed")
	}
	m.HandleLeave(actor.NewPID("127.0.0.1:2", "x"), &actorpb.NodeLeave{Address: "127.0.0.1:2"})
	if got := fmt.Sprint(Names(m.Live())); got != "[c e]" {
		t.Fatalf("after b left: %s", got)
	}
	if info := m.Info(); len(info.Peers) != 2 || info.Address != "127.0.0.1:1" {
		t.Fatalf("info: %v", info)
	}
	m.leaving.Store(true)
	if m.HandleInfo(nil, &actorpb.NodeInfoRequest{}) != nil {
		t.Fatal("a leaving node answered a heartbeat")
	}
}
