package node

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// Membership is a seed list: every second the node asks each seed (other
// nodes' --listen addresses) who it is and what it hosts. A peer that has
// not answered for memberTimeout is dropped from the list of nodes until it
// answers again.
const (
	heartbeatEvery = time.Second
	memberTimeout  = 5 * time.Second
)

type member struct {
	name     string
	address  string
	tables   []*actorpb.TableInfo
	lastSeen time.Time
}

type members struct {
	mu    sync.Mutex
	peers map[string]*member // by address
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

const (
	candidateRetry = 30 * time.Second
	maxCandidates  = 1024
)

// learn adds an address to the ones this node verifies with one ping.
func (n *Node) learn(addr string) {
	if addr == "" || addr == n.cfg.ListenAddr {
		return
	}
	n.members.mu.Lock()
	defer n.members.mu.Unlock()
	if n.members.known == nil || n.members.known[addr] {
		return
	}
	if t, ok := n.members.failed[addr]; ok && time.Since(t) < candidateRetry {
		return
	}
	if n.members.candidates == nil {
		n.members.candidates, n.members.failed = map[string]bool{}, map[string]time.Time{}
	}
	if len(n.members.candidates) < maxCandidates {
		n.members.candidates[addr] = true
	}
}

// verified records the outcome of a candidate's one ping.
func (n *Node) verified(addr string, ok bool) {
	n.members.mu.Lock()
	defer n.members.mu.Unlock()
	delete(n.members.candidates, addr)
	if ok {
		n.members.known[addr] = true
		delete(n.members.failed, addr)
		return
	}
	for a, t := range n.members.failed {
		if time.Since(t) >= candidateRetry {
			delete(n.members.failed, a)
		}
	}
	if len(n.members.failed) < maxCandidates {
		n.members.failed[addr] = time.Now()
	}
}

// forget drops a peer that left cleanly. Seeds stay known, so that they are
// found again when they restart; others come back by pinging this node or
// through another peer.
func (n *Node) forget(addr string) {
	n.members.mu.Lock()
	delete(n.members.peers, addr)
	delete(n.members.candidates, addr)
	if !slices.Contains(n.cfg.Seeds, addr) {
		delete(n.members.known, addr)
	}
	n.members.mu.Unlock()
}

func (n *Node) nodeInfo() *actorpb.NodeInfoReply {
	rep := &actorpb.NodeInfoReply{Name: n.cfg.Name, Address: n.cfg.ListenAddr}
	for _, m := range n.livePeers() {
		rep.Peers = append(rep.Peers, m.address)
	}
	for _, t := range n.store.Tables() {
		st := n.store.Stats(t)
		rep.Tables = append(rep.Tables, &actorpb.TableInfo{Dbms: t.DBMS, Table: t.Name, Rows: st.Rows, MinTime: st.MinTime, MaxTime: st.MaxTime, HasTime: st.HasTime})
	}
	return rep
}

// heartbeatLoop asks every known address (the seeds and the peers learned
// since) for its node info until ctx ends. Each reply also lists the peers
// that node knows, so a node that names one seed finds the whole cluster.
func (n *Node) heartbeatLoop(ctx context.Context) {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		n.members.mu.Lock()
		targets := make([]string, 0, len(n.members.known)+len(n.members.candidates))
		for a := range n.members.known {
			targets = append(targets, a)
		}
		candidates := map[string]bool{}
		for a := range n.members.candidates {
			if !n.members.known[a] {
				targets = append(targets, a)
				candidates[a] = true
			}
		}
		n.members.mu.Unlock()
		var wg sync.WaitGroup
		for _, addr := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := n.sys.Root.RequestFuture(actor.NewPID(addr, CommandActorName), &actorpb.NodeInfoRequest{From: n.cfg.Name, FromAddress: n.cfg.ListenAddr}, heartbeatEvery).Result()
				rep, ok := res.(*actorpb.NodeInfoReply)
				if candidates[addr] {
					// A learned address joins only if it answers this
					// node's own (authenticated) ping for that address.
					ok = err == nil && ok && rep.Address == addr
					n.verified(addr, ok)
					if !ok {
						if err == nil && rep != nil {
							n.log.Warn("a learned peer address answered for another address; ignored", "address", addr, "answered_as", rep.Address)
						}
						return
					}
				}
				if err != nil || !ok {
					return
				}
				n.members.mu.Lock()
				n.members.peers[addr] = &member{name: rep.Name, address: addr, tables: rep.Tables, lastSeen: time.Now()}
				n.members.mu.Unlock()
				for _, p := range rep.Peers {
					n.learn(p)
				}
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// leave tells every live peer that this node stops, so that they do not count it
// as lost (waiting at most a second for their acknowledgements).
func (n *Node) leave() {
	var wg sync.WaitGroup
	for _, m := range n.livePeers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = n.sys.Root.RequestFuture(actor.NewPID(m.address, CommandActorName), &actorpb.NodeLeave{Name: n.cfg.Name, Address: n.cfg.ListenAddr}, time.Second).Result()
		}()
	}
	wg.Wait()
}

// lostPeers returns the peers that stopped answering without leaving: the
// rows they host are unavailable until they come back, and run client ()
// names them.
func (n *Node) lostPeers() []*member {
	n.members.mu.Lock()
	defer n.members.mu.Unlock()
	var out []*member
	for _, m := range n.members.peers {
		if time.Since(m.lastSeen) > memberTimeout {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *member) int { return strings.Compare(a.name, b.name) })
	return out
}

func (m *member) hosts(dbms, table string) bool {
	for _, t := range m.tables {
		if t.Dbms == dbms && t.Table == table {
			return true
		}
	}
	return false
}

// livePeers returns the peers heard from within memberTimeout.
func (n *Node) livePeers() []*member {
	n.members.mu.Lock()
	defer n.members.mu.Unlock()
	var out []*member
	for _, m := range n.members.peers {
		if time.Since(m.lastSeen) <= memberTimeout {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *member) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

func tablesText(ts []*actorpb.TableInfo) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s.%s (%d rows", t.Dbms, t.Table, t.Rows)
		if t.HasTime {
			s += fmt.Sprintf(", %s to %s", time.UnixMicro(t.MinTime).UTC().Format("2006-01-02 15:04:05"), time.UnixMicro(t.MaxTime).UTC().Format("2006-01-02 15:04:05"))
		}
		s += ")"
	}
	return s
}

// getNodes lists this node and the live peers of its seed list.
func (n *Node) getNodes(g *command.Get, opts ExecOptions) Result {
	self := n.nodeInfo()
	tbl := output.Table{Header: [][]string{{"Node", "Address", "Status", "Tables", "Last heartbeat"}}}
	var objs []*output.Object
	add := func(name, addr, status string, tables []*actorpb.TableInfo, seen string) {
		tbl.Rows = append(tbl.Rows, []string{name, addr, status, tablesText(tables), seen})
		var ts []*output.Object
		for _, t := range tables {
			ts = append(ts, (&output.Object{}).Set("dbms", t.Dbms).Set("table", t.Table).Set("rows", t.Rows))
		}
		objs = append(objs, (&output.Object{}).Set("name", name).Set("address", addr).Set("status", status).Set("tables", ts).Set("last_heartbeat", seen))
	}
	add(self.Name, self.Address, "this node", self.Tables, "")
	for _, m := range n.livePeers() {
		add(m.name, m.address, "alive", m.tables, strconv.FormatInt(time.Since(m.lastSeen).Milliseconds(), 10)+" ms ago")
	}
	res := n.render(g, opts, tbl, objs)
	for _, m := range n.lostPeers() {
		res.Notices = append(res.Notices, fmt.Sprintf("node %s (%s) lost: no heartbeat for %s, it did not leave; its tables are unavailable: %s",
			m.name, m.address, time.Since(m.lastSeen).Round(time.Second), tablesText(m.tables)))
	}
	return res
}
