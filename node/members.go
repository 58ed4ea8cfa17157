package node

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
)

// startMembers starts the membership of the node's cluster: heartbeats to
// the seeds and to the peers learned since, until bg ends.
func (n *Node) startMembers(bg context.Context) {
	m := cluster.New(cluster.Config{Name: n.cfg.Name, Address: n.cfg.ListenAddr, Seeds: n.cfg.Seeds, Tables: n.tableInfos, Logger: n.log})
	n.members.Store(m)
	done := make(chan struct{})
	prev := n.bgDone
	go func() {
		m.Run(bg, n.sys)
		<-prev
		close(done)
	}()
	n.bgDone = done
}

// tableInfos lists this node's tables for its heartbeat replies.
func (n *Node) tableInfos() []*actorpb.TableInfo {
	var out []*actorpb.TableInfo
	for _, t := range n.store.Tables() {
		st := n.store.Stats(t)
		out = append(out, &actorpb.TableInfo{Dbms: t.DBMS, Table: t.Name, Rows: st.Rows, MinTime: st.MinTime, MaxTime: st.MaxTime, HasTime: st.HasTime})
	}
	return out
}

// nodeInfo describes this node as its heartbeat replies do.
func (n *Node) nodeInfo() *actorpb.NodeInfoReply {
	if m := n.members.Load(); m != nil {
		return m.Info()
	}
	return &actorpb.NodeInfoReply{Name: n.cfg.Name, Address: n.cfg.ListenAddr, Tables: n.tableInfos()}
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
	for _, m := range n.members.Load().Live() {
		add(m.Name, m.Address, "alive", m.Tables, strconv.FormatInt(time.Since(m.LastSeen).Milliseconds(), 10)+" ms ago")
	}
	res := n.render(g, opts, tbl, objs)
	for _, m := range n.members.Load().Lost() {
		res.Notices = append(res.Notices, fmt.Sprintf("node %s (%s) lost: no heartbeat for %s, it did not leave; its tables are unavailable: %s",
			m.Name, m.Address, time.Since(m.LastSeen).Round(time.Second), tablesText(m.Tables)))
	}
	return res
}

// Join adds other nodes' --listen addresses to the ones this node verifies
// with a ping and then heartbeats, as --seeds does at start. It does
// nothing on a node without a remote endpoint.
func (n *Node) Join(addrs ...string) {
	m := n.members.Load()
	for _, a := range addrs {
		m.Learn(a)
	}
}
