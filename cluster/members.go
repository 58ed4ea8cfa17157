package cluster

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
)

// CommandActorName is the id of the actor that answers other nodes and
// --connect clients on a node's --listen address: the command actor, a
// child of the node root.
const CommandActorName = "node/command"

// Membership is a seed list: every second the node asks each seed (other
// nodes' --listen addresses) who it is and what it hosts. A peer that has
// not answered for MemberTimeout is dropped from the list of nodes until it
// answers again.
const (
	HeartbeatEvery = time.Second
	MemberTimeout  = 5 * time.Second
)

const (
	candidateRetry = 30 * time.Second
	maxCandidates  = 1024
)

// Peer is another node as its last heartbeat described it.
type Peer struct {
	Name     string
	Address  string
	Tables   []*actorpb.TableInfo
	LastSeen time.Time
}

// Hosts reports whether the peer hosts dbms.table.
func (p *Peer) Hosts(dbms, table string) bool {
	for _, t := range p.Tables {
		if t.Dbms == dbms && t.Table == table {
			return true
		}
	}
	return false
}

// Config describes this node to its members list.
type Config struct {
	Name    string   // this node's name
	Address string   // its --listen address
	Seeds   []string // other nodes' --listen addresses
	// Tables lists what this node hosts, for its heartbeat replies.
	Tables func() []*actorpb.TableInfo
	Logger *slog.Logger
}

// Members is a node's view of its cluster: the peers it heard from and the
// tables they host.
type Members struct {
	cfg Config
	// leaving is set when the node stops: it no longer answers heartbeats,
	// so that a reply in flight cannot bring it back after its NodeLeave.
	leaving atomic.Bool

	mu    sync.Mutex
	peers map[string]*Peer // by address
	// known are the addresses pinged every heartbeat: the seeds, and the
	// nodes that pinged this one or that the others reported, once a ping
	// from this node to them has answered.
	known map[string]bool
	// candidates are addresses learned but not yet verified: each gets one
	// ping. One that does not answer, or answers for another address, is
	// forgotten and not tried again for candidateRetry, so that a heartbeat
	// naming an arbitrary address cannot make the node dial it every second.
	candidates map[string]bool
	failed     map[string]time.Time
}

// New returns the members list of the node cfg describes, knowing its seeds.
func New(cfg Config) *Members {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tables == nil {
		cfg.Tables = func() []*actorpb.TableInfo { return nil }
	}
	m := &Members{cfg: cfg, peers: map[string]*Peer{}, known: map[string]bool{}, candidates: map[string]bool{}, failed: map[string]time.Time{}}
	for _, s := range cfg.Seeds {
		if s != cfg.Address {
			m.known[s] = true
		}
	}
	return m
}

// Learn adds an address to the ones this node verifies with one ping.
func (m *Members) Learn(addr string) {
	if m == nil || addr == "" || addr == m.cfg.Address {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known[addr] {
		return
	}
	if t, ok := m.failed[addr]; ok && time.Since(t) < candidateRetry {
		return
	}
	if len(m.candidates) < maxCandidates {
		m.candidates[addr] = true
	}
}

// verified records the outcome of a candidate's one ping.
func (m *Members) verified(addr string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.candidates, addr)
	if ok {
		m.known[addr] = true
		delete(m.failed, addr)
		return
	}
	for a, t := range m.failed {
		if time.Since(t) >= candidateRetry {
			delete(m.failed, a)
		}
	}
	if len(m.failed) < maxCandidates {
		m.failed[addr] = time.Now()
	}
}

// Forget drops a peer that left cleanly. Seeds stay known, so that they are
// found again when they restart; others come back by pinging this node or
// through another peer.
func (m *Members) Forget(addr string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.peers, addr)
	delete(m.candidates, addr)
	if !slices.Contains(m.cfg.Seeds, addr) {
		delete(m.known, addr)
	}
}

// Info is this node's heartbeat reply: its name, address, the live peers it
// knows and the tables it hosts.
func (m *Members) Info() *actorpb.NodeInfoReply {
	rep := &actorpb.NodeInfoReply{Name: m.cfg.Name, Address: m.cfg.Address, Tables: m.cfg.Tables()}
	for _, p := range m.Live() {
		rep.Peers = append(rep.Peers, p.Address)
	}
	return rep
}

// HandleInfo answers a heartbeat from sender; nil once the node is leaving.
// A node learns who pings it, but only its own address (the sender's), and
// only after pinging it back.
func (m *Members) HandleInfo(sender *actor.PID, req *actorpb.NodeInfoRequest) *actorpb.NodeInfoReply {
	if m.leaving.Load() {
		return nil
	}
	if sender != nil && sender.Address == req.FromAddress {
		m.Learn(req.FromAddress)
	}
	return m.Info()
}

// HandleLeave forgets the peer that sent its NodeLeave: only a member
// leaves, and only for itself.
func (m *Members) HandleLeave(sender *actor.PID, req *actorpb.NodeLeave) {
	if sender != nil && sender.Address == req.Address {
		m.Forget(req.Address)
		return
	}
	m.cfg.Logger.Warn("ignored a NodeLeave for another node's address", "address", req.Address)
}

// targets returns the addresses to ping now, and which of them are
// candidates.
func (m *Members) targets() ([]string, map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	targets := make([]string, 0, len(m.known)+len(m.candidates))
	for a := range m.known {
		targets = append(targets, a)
	}
	candidates := map[string]bool{}
	for a := range m.candidates {
		if !m.known[a] {
			targets = append(targets, a)
			candidates[a] = true
		}
	}
	return targets, candidates
}

// Run asks every known address (the seeds and the peers learned since) for
// its node info every HeartbeatEvery until ctx ends. Each reply also lists
// the peers that node knows, so a node that names one seed finds the whole
// cluster.
func (m *Members) Run(ctx context.Context, sys *actor.ActorSystem) {
	tick := time.NewTicker(HeartbeatEvery)
	defer tick.Stop()
	for {
		targets, candidates := m.targets()
		var wg sync.WaitGroup
		for _, addr := range targets {
			wg.Go(func() { m.ping(sys, addr, candidates[addr]) })
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ping asks addr for its node info and records the answer.
func (m *Members) ping(sys *actor.ActorSystem, addr string, candidate bool) {
	res, err := sys.Root.RequestFuture(actor.NewPID(addr, CommandActorName), &actorpb.NodeInfoRequest{From: m.cfg.Name, FromAddress: m.cfg.Address}, HeartbeatEvery).Result()
	rep, ok := res.(*actorpb.NodeInfoReply)
	if candidate {
		// A learned address joins only if it answers this node's own
		// (authenticated) ping for that address.
		ok = err == nil && ok && rep.Address == addr
		m.verified(addr, ok)
		if !ok {
			if err == nil && rep != nil {
				m.cfg.Logger.Warn("a learned peer address answered for another address; ignored", "address", addr, "answered_as", rep.Address)
			}
			return
		}
	}
	if err != nil || !ok {
		return
	}
	m.mu.Lock()
	m.peers[addr] = &Peer{Name: rep.Name, Address: addr, Tables: rep.Tables, LastSeen: time.Now()}
	m.mu.Unlock()
	for _, p := range rep.Peers {
		m.Learn(p)
	}
}

// Leave tells every live peer that this node stops, so that they do not
// count it as lost (waiting at most a second for their acknowledgements);
// from then on the node answers no heartbeat.
func (m *Members) Leave(sys *actor.ActorSystem) {
	if m == nil {
		return
	}
	m.leaving.Store(true)
	var wg sync.WaitGroup
	for _, p := range m.Live() {
		wg.Go(func() {
			_, _ = sys.Root.RequestFuture(actor.NewPID(p.Address, CommandActorName), &actorpb.NodeLeave{Name: m.cfg.Name, Address: m.cfg.Address}, time.Second).Result()
		})
	}
	wg.Wait()
}

// peersWhere returns the peers keep accepts, by name.
func (m *Members) peersWhere(keep func(*Peer) bool) []*Peer {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Peer
	for _, p := range m.peers {
		if keep(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Peer) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Live returns the peers heard from within MemberTimeout, by name.
func (m *Members) Live() []*Peer {
	return m.peersWhere(func(p *Peer) bool { return time.Since(p.LastSeen) <= MemberTimeout })
}

// Lost returns the peers that stopped answering without leaving: the rows
// they host are unavailable until they come back.
func (m *Members) Lost() []*Peer {
	return m.peersWhere(func(p *Peer) bool { return time.Since(p.LastSeen) > MemberTimeout })
}

// Address returns the --listen address of the live peer named name.
func (m *Members) Address(name string) (string, bool) {
	for _, p := range m.Live() {
		if p.Name == name {
			return p.Address, true
		}
	}
	return "", false
}

// NameAt returns the name of the peer at address addr, live or lost.
func (m *Members) NameAt(addr string) (string, bool) {
	if m == nil {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.peers[addr]; ok {
		return p.Name, true
	}
	return "", false
}

// Hosts is the table directory: the live peers hosting dbms.table, and the
// lost ones (their rows are unavailable, and an answer says so).
func (m *Members) Hosts(dbms, table string) (live, lost []*Peer) {
	for _, p := range m.Live() {
		if p.Hosts(dbms, table) {
			live = append(live, p)
		}
	}
	for _, p := range m.Lost() {
		if p.Hosts(dbms, table) {
			lost = append(lost, p)
		}
	}
	return live, lost
}

// Names returns the peers' names.
func Names(ps []*Peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}
