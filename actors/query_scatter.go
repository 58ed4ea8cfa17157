package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/lakenode/lakenode/actors/actorpb"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/tables"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// ScatterQuery is a run client () query: its partial plan runs on this node
// and on every live peer hosting the table, and the partials are merged
// here. A peer's share is a request the query cancels when it stops.
type ScatterQuery struct {
	Store *tables.Store
	Node  string // this node's name
	DBMS  string
	Query string
	Table string
	// Hosts are the live peers hosting the table; Lost the ones that
	// stopped answering.
	Hosts, Lost []*cluster.Peer
	// Subset accepts an answer without some nodes.
	Subset bool
	// Wait is how long a peer's answer is waited for (the query's
	// deadline, which also ends the wait).
	Wait    time.Duration
	Now     time.Time
	MaxRows int64 // lsql.Options.MaxRows of this node's share
	// Since, when set, makes the query a since = last run: the last commit
	// of each node already sent, by node name.
	Since map[string]uint64

	Result *lsql.Result
	Stats  ScatterStats
	// UpTo is, with Since, the last commit each node's answer covers.
	UpTo map[string]uint64
}

// ScatterStats says which nodes answered and how long each took.
type ScatterStats struct {
	Nodes, Target int
	Missing       []string
	Times         []NodeTime
}

// NodeTime is the time a node spent on its share.
type NodeTime struct {
	Name    string
	Elapsed time.Duration
}

// answer is one node's share of a scatter.
type answer struct {
	name string
	pt   *lsql.Partial
	err  error
	upto uint64 // since = last: the last commit the answer covers
	took time.Duration
}

func (q *ScatterQuery) target() (string, string) { return q.DBMS, q.Query }

// run sends each host the query's partial plan, runs it here too, and
// merges the partials. SQL errors come back as *lsql.Error.
func (q *ScatterQuery) run(ctx context.Context, env *queryEnv) error {
	lopt := lsql.Options{Now: q.Now, MaxRows: q.MaxRows}
	if q.Since != nil {
		lopt.Commits = LocalCommits(q.Store, q.DBMS, q.Table, q.Since[q.Node])
	}
	// period() counts back from the latest time over every node, not from
	// each node's own.
	anchor, err := q.periodAnchor(ctx, env)
	if err != nil {
		return err
	}
	lopt.PeriodAnchor = anchor
	prep, err := lsql.Prepare(ctx, q.Store, q.DBMS, q.Query, lopt)
	if err != nil {
		return err
	}
	answers := make([]answer, len(q.Hosts)+1, len(q.Hosts)+1+len(q.Lost))
	for _, m := range q.Lost {
		answers = append(answers, answer{name: m.Name, err: fmt.Errorf("no heartbeat since %s", m.LastSeen.UTC().Format(time.TimeOnly))})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		t0 := time.Now()
		pt, err := prep.Partial(ctx, q.Store)
		answers[0] = answer{name: q.Node, pt: pt, err: err, took: time.Since(t0)}
		if lopt.Commits != nil {
			answers[0].upto = lopt.Commits.UpTo
		}
	})
	for i, h := range q.Hosts {
		wg.Go(func() { answers[i+1] = q.ask(ctx, env, h, anchor) })
	}
	wg.Wait()
	if answers[0].err != nil {
		// This node's own share failed: the query itself is at fault
		// (or was canceled).
		return answers[0].err
	}
	return q.merge(ctx, prep, answers)
}

// ask runs the query's share on peer h. Canceled or past the deadline, the
// peer is told to stop its share.
func (q *ScatterQuery) ask(ctx context.Context, env *queryEnv, h *cluster.Peer, anchor *lsql.PeriodAnchor) answer {
	a := answer{name: h.Name}
	req := &actorpb.PartialRequest{Dbms: q.DBMS, Query: q.Query, Now: q.Now.UnixMicro(), Id: cluster.RequestID()}
	if anchor != nil {
		req.PeriodSet, req.PeriodFound, req.PeriodLast = true, anchor.Found, anchor.Last
	}
	if q.Since != nil {
		req.Since, req.CommitsAfter = true, q.Since[h.Name]
	}
	res, err := cluster.Ask(ctx, env.sys, env.log, actor.NewPID(h.Address, cluster.CommandActorName), req, req.Id, q.Wait)
	switch rep, ok := res.(*actorpb.PartialReply); {
	case err != nil:
		a.err = fmt.Errorf("no answer within %v", q.Wait)
	case !ok:
		a.err = fmt.Errorf("unexpected reply %T", res)
	case rep.Error != "":
		a.err = errors.New(rep.Error)
	case rep.NoTable:
		a.pt = &lsql.Partial{}
	default:
		a.pt, a.err = decodePartial(rep)
		a.upto = rep.CommitsUpto
		a.took = time.Duration(rep.ElapsedUs) * time.Microsecond
	}
	return a
}

// merge combines the answers, or says which nodes did not answer.
func (q *ScatterQuery) merge(ctx context.Context, prep *lsql.Prepared, answers []answer) error {
	var parts []*lsql.Partial
	var missing, why []string
	var times []NodeTime
	if q.Since != nil {
		q.UpTo = map[string]uint64{}
	}
	for _, a := range answers {
		if a.err != nil {
			missing = append(missing, a.name)
			why = append(why, a.name+": "+a.err.Error())
			continue
		}
		parts = append(parts, a.pt)
		times = append(times, NodeTime{Name: a.name, Elapsed: a.took})
		if q.UpTo != nil && a.upto > 0 {
			q.UpTo[a.name] = a.upto
		}
	}
	if len(missing) > 0 && !q.Subset {
		return fmt.Errorf("run client (): %d of %d nodes did not answer (%s); add subset = true inside the parentheses to accept a partial answer", len(missing), len(answers), strings.Join(why, "; "))
	}
	res, err := prep.Merge(ctx, parts)
	if err != nil {
		return err
	}
	q.Result = res
	q.Stats = ScatterStats{Nodes: len(parts), Target: len(answers), Missing: missing, Times: times}
	return nil
}

// periodAnchor returns, for a query with period(), the latest of the
// anchors of this node and the hosts (nil without period()). Hosts that do
// not answer are left out here; the query proper reports them.
func (q *ScatterQuery) periodAnchor(ctx context.Context, env *queryEnv) (*lsql.PeriodAnchor, error) {
	if !strings.Contains(strings.ToLower(q.Query), "period") {
		return nil, nil
	}
	a, has, err := lsql.PeriodLast(ctx, q.Store, q.DBMS, q.Query, lsql.Options{Now: q.Now})
	if err != nil || !has {
		return nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range q.Hosts {
		wg.Go(func() {
			req := &actorpb.PartialRequest{Dbms: q.DBMS, Query: q.Query, Now: q.Now.UnixMicro(), PeriodProbe: true, Id: cluster.RequestID()}
			res, err := cluster.Ask(ctx, env.sys, env.log, actor.NewPID(h.Address, cluster.CommandActorName), req, req.Id, q.Wait)
			rep, ok := res.(*actorpb.PartialReply)
			if err != nil || !ok || rep.Error != "" || !rep.PeriodFound {
				return
			}
			mu.Lock()
			if !a.Found || rep.PeriodLast > a.Last {
				a.Found, a.Last = true, rep.PeriodLast
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &a, nil
}
