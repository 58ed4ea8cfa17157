package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Record is one consumed Kafka record, detached from franz-go's types.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp time.Time
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s[%d]", tp.Topic, tp.Partition) }

// TopicIdentity is what makes a topic the same topic: the Kafka cluster ID and
// the topic ID. A recreated topic or another cluster with the same topic name
// has another identity.
type TopicIdentity struct {
	ClusterID string
	TopicID   string
}

// ConsumerHandler receives a consumer's events. With BlockRebalanceOnPoll the
// group callbacks (Assigned, StartOffsets, Revoked, Lost) never run while
// Records is being delivered, so a handler needs no lock between them.
type ConsumerHandler interface {
	// Assigned is called when partitions are assigned, before any of their
	// records are fetched, with each topic's identity.
	Assigned(ctx context.Context, tps []TopicPartition, ids map[string]TopicIdentity) error
	// StartOffsets gets, per newly assigned partition, the group-committed
	// offset (-1 if none) and returns where to start: an offset >= 0, or -1
	// for the consumer's reset policy.
	StartOffsets(ctx context.Context, committed map[TopicPartition]int64) map[TopicPartition]int64
	// Resolved tells the numeric start of partitions that StartOffsets
	// left to the reset policy.
	Resolved(starts map[TopicPartition]int64)
	// Records delivers fetched records of one partition, in offset order.
	Records(tp TopicPartition, recs []Record)
	// Revoked is called when partitions are taken away. It must return
	// only once everything in flight for them is durable and marked; the
	// marked offsets are committed right after it returns.
	Revoked(ctx context.Context, tps []TopicPartition)
	// Lost is called when partitions are lost without a chance to commit.
	Lost(tps []TopicPartition)
	// Failed reports that the consumer cannot go on safely with this
	// client (a partition it cannot store); the handler restarts it.
	Failed(err error)
	// FetchError reports a broker or fetch error (nil when fetching works
	// again), for status displays. Errors are retried by the client.
	FetchError(err error)
	// HighWatermark reports a partition's high watermark from a fetch
	// response, fresher than a periodic read.
	HighWatermark(tp TopicPartition, hw int64)
	// TopicChanged reports a partition the client cannot go on with
	// without skipping or re-reading records: its topic was deleted and
	// re-created (a new topic ID), or its position lies outside the log
	// (offset out of range); why says which. Fetching it is not resumed
	// by the client.
	TopicChanged(tp TopicPartition, why string)
}

// ConsumerConfig configures a Consumer. Brokers, Group, Topics and Handler
// are required.
type ConsumerConfig struct {
	Brokers    []string
	Group      string
	InstanceID string // static group membership; "" for dynamic
	Topics     []string
	// Reset is "earliest" or "latest" (the default): where a partition
	// with no stored or committed position starts.
	Reset   string
	Handler ConsumerHandler
	Logger  *slog.Logger
	// SessionTimeout of the group member; default 45 s. A node restarted
	// within it gets its partitions back without a rebalance.
	SessionTimeout time.Duration
	// HeartbeatInterval of the group member; 0 is Kafka's default of 3 s.
	// BenchmarkGroupBalance measured a new member sharing the partitions
	// within about 1 s with 3 s and with 0.5 s alike, so it is left there.
	HeartbeatInterval time.Duration
	// MaxPollRecords bounds one poll; default 10,000.
	MaxPollRecords int
	// Security is the TLS and SASL settings of both clients.
	Security Security
}

// Consumer is one consumer-group client for one `run kafka consumer`.
type Consumer struct {
	cfg   ConsumerConfig
	cl    *kgo.Client
	admin *kadm.Client // on its own client, so metadata calls never wait on the group loop
	adcl  *kgo.Client

	mu  sync.Mutex
	ids map[string]TopicIdentity

	// commitNow wakes the committer after a mark: offsets go to the group
	// as soon as the data is durable, one commit in flight at a time.
	commitNow chan struct{}
	// commitMu serialises the committer with the commit on revoke: a commit
	// queued behind the revoke's must not write older offsets after it.
	commitMu sync.Mutex
	// failing is set when Run reported an error to the handler, and
	// cleared (with FetchError(nil)) when records arrive again while no
	// partition is held, or when the last held partition has its start.
	failing atomic.Bool

	// Partitions whose "latest" start adjust could not resolve are held:
	// assigned but paused, so that nothing of them is consumed before
	// their start is stored, while the others are consumed. holdLoop
	// resolves them in the background and stores them (Handler.Resolved);
	// Run, between a poll and AllowRebalance, sets each to its start and
	// resumes it. holdMu guards the maps, holding and wake.
	holdMu  sync.Mutex
	held    map[TopicPartition]bool
	ready   map[TopicPartition]int64 // held, resolved and stored: for Run to start
	paused  map[TopicPartition]bool  // paused by Pause (backpressure)
	holding bool                     // holdLoop runs
	wake    context.CancelFunc       // ends Run's poll under way, if any
	// gcl is the group's client as onAssigned got it: adjust may run
	// before NewConsumer has set c.cl.
	gcl atomic.Pointer[kgo.Client]
	// bg ends holdLoop (Close); holdDone is closed when it has returned.
	bg       context.Context
	bgStop   context.CancelFunc
	holdDone chan struct{}
}

// NewConsumer creates the clients; nothing is fetched until Run.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if len(cfg.Brokers) == 0 || cfg.Group == "" || len(cfg.Topics) == 0 || cfg.Handler == nil {
		return nil, errors.New("kafka: consumer needs brokers, a group, topics and a handler")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 45 * time.Second
	}
	if cfg.MaxPollRecords == 0 {
		cfg.MaxPollRecords = 10_000
	}
	c := &Consumer{cfg: cfg, ids: make(map[string]TopicIdentity), commitNow: make(chan struct{}, 1),
		held: map[TopicPartition]bool{}, ready: map[TopicPartition]int64{}, paused: map[TopicPartition]bool{}}
	c.bg, c.bgStop = context.WithCancel(context.Background())
	// A position outside the log is never reset by the client (which would
	// skip or re-read records silently): the error reaches Run, which
	// reports the partition as changed. Positions the node has not stored
	// are resolved to numbers in adjust before fetching starts.
	reset := kgo.NoResetOffset().AtEnd()
	if cfg.Reset == "earliest" {
		reset = kgo.NoResetOffset().AtStart()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.BlockRebalanceOnPoll(),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.OnPartitionsAssigned(c.onAssigned),
		kgo.OnPartitionsRevoked(c.onRevoked),
		kgo.OnPartitionsLost(c.onLost),
		kgo.AdjustFetchOffsetsFn(c.adjust),
		kgo.WithLogger(slogLogger{cfg.Logger}),
		kgo.RetryBackoffFn(backoff),
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	if cfg.HeartbeatInterval > 0 {
		opts = append(opts, kgo.HeartbeatInterval(cfg.HeartbeatInterval))
	}
	// The admin client comes first: kgo.NewClient with a ConsumerGroup
	// starts joining at once, and onAssigned (on the group's goroutine)
	// reads metadata through c.admin, possibly before NewClient returns.
	adcl, err := cfg.Security.newClient(kgo.SeedBrokers(cfg.Brokers...), kgo.RetryBackoffFn(backoff), kgo.WithLogger(slogLogger{cfg.Logger}))
	if err != nil {
		return nil, fmt.Errorf("kafka: creating admin client: %w", err)
	}
	c.adcl, c.admin = adcl, kadm.NewClient(adcl)
	cl, err := cfg.Security.newClient(opts...)
	if err != nil {
		adcl.Close()
		return nil, fmt.Errorf("kafka: creating consumer: %w", err)
	}
	c.cl = cl
	if afterGroupClient != nil {
		afterGroupClient(c)
	}
	return c, nil
}

// afterGroupClient, when set (by tests), runs right after the group client
// is created and before NewConsumer returns: the moment at which an early
// assignment used to find the admin client missing.
var afterGroupClient func(*Consumer)

// backoff grows from 250 ms to 5 s: a broker that is down is retried
// without flooding it or the log.
func backoff(tries int) time.Duration {
	d := 250 * time.Millisecond << min(tries, 5)
	return min(d, 5*time.Second)
}

// Run polls until ctx is done, handing records to the handler. Broker
// errors are reported to the handler and retried; Run returns only when ctx
// ends or the client is closed. A poll that brings only errors is followed
// by a backoff, so an error the client returns at once on every poll (a
// re-created topic) cannot spin a core or flood the log.
func (c *Consumer) Run(ctx context.Context) error {
	go c.committer(ctx)
	idle := 0 // polls in a row with errors and no records
	for {
		// holdLoop ends the poll (pctx) when a held partition is ready.
		pctx, wake := context.WithCancel(ctx)
		c.setWake(wake)
		fetches := c.cl.PollRecords(pctx, c.cfg.MaxPollRecords)
		woken := pctx.Err() != nil
		c.setWake(nil)
		wake()
		if fetches.IsClientClosed() || ctx.Err() != nil {
			c.cl.AllowRebalance()
			return ctx.Err()
		}
		// Rebalances wait until AllowRebalance: no revoke runs meanwhile.
		c.startReady()
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			if why := changeReason(err); why != "" {
				c.cfg.Handler.TopicChanged(TopicPartition{t, p}, why)
				return
			}
			if t == "" { // the group's, not a partition's
				ferr = fmt.Errorf("consumer group %s: %w", c.cfg.Group, c.cfg.Security.Explain(err))
				return
			}
			ferr = fmt.Errorf("fetching %s[%d]: %w", t, p, c.cfg.Security.Explain(err))
		})
		if ferr != nil {
			c.failing.Store(true)
			c.cfg.Handler.FetchError(ferr)
		} else if fetches.NumRecords() > 0 && c.failing.Load() {
			c.clearUnlessHeld()
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err == nil && p.HighWatermark >= 0 {
				c.cfg.Handler.HighWatermark(TopicPartition{p.Topic, p.Partition}, p.HighWatermark)
			}
			if len(p.Records) == 0 {
				return
			}
			recs := make([]Record, len(p.Records))
			for i, r := range p.Records {
				recs[i] = Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
			}
			c.cfg.Handler.Records(TopicPartition{p.Topic, p.Partition}, recs)
		})
		c.cl.AllowRebalance()
		if woken || len(fetches.Errors()) == 0 || fetches.NumRecords() > 0 {
			idle = 0
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff(idle)):
		}
		idle++
	}
}

// changeReason says why a fetch error means the partition cannot go on
// without skipping or re-reading — the topic was re-created (the client
// keeps its first topic ID and fails with UNKNOWN_TOPIC_ID once it saw a
// new one), or the position is outside the log — and is "" for other
// errors, which are retried.
func changeReason(err error) string {
	switch {
	case errors.Is(err, kerr.UnknownTopicID):
		return "the topic was deleted and re-created (the broker no longer knows the topic ID it was assigned with)"
	case errors.Is(err, kerr.OffsetOutOfRange):
		return "the stored offset is outside the topic's log (the broker's retention deleted records before the node read them, the topic was re-created, or the broker lost records)"
	}
	return ""
}

// Pause stops fetching a partition (backpressure) until Resume.
func (c *Consumer) Pause(tp TopicPartition) {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	c.paused[tp] = true
	c.groupClient().PauseFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
}

// Resume undoes Pause; a held partition stays paused until its start is
// known.
func (c *Consumer) Resume(tp TopicPartition) {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	delete(c.paused, tp)
	if !c.held[tp] {
		c.groupClient().ResumeFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
	}
}

// hold pauses partitions whose start adjust could not resolve (err says
// why), before the client is given them, and has holdLoop resolve them.
func (c *Consumer) hold(tps []TopicPartition, err error) {
	if len(tps) == 0 {
		return
	}
	pause := map[string][]int32{}
	names := make([]string, len(tps))
	c.holdMu.Lock()
	for i, tp := range tps {
		c.held[tp] = true
		delete(c.ready, tp)
		pause[tp.Topic] = append(pause[tp.Topic], tp.Partition)
		names[i] = tp.String()
	}
	c.groupClient().PauseFetchPartitions(pause)
	var done chan struct{}
	if !c.holding {
		c.holding = true
		done = make(chan struct{})
		c.holdDone = done
	}
	// The status changes under holdMu while partitions are held, so that
	// a clear (startReady, unhold) cannot undo a newer hold's report.
	herr := c.heldError(err)
	c.failing.Store(true)
	c.cfg.Handler.FetchError(herr)
	c.holdMu.Unlock()
	slices.Sort(names)
	c.cfg.Logger.Warn("holding partitions until their start offset is known; the others are consumed", "partitions", names, "err", err)
	if done != nil {
		go c.holdLoop(done, herr.Error())
	}
}

// heldError is the status while partitions are held.
func (c *Consumer) heldError(err error) error {
	return fmt.Errorf("consumer group %s: %w; trying again, the other partitions are consumed meanwhile", c.cfg.Group, err)
}

// groupClient is the consumer's client, also before NewConsumer has set
// c.cl (the group may assign partitions before it returns).
func (c *Consumer) groupClient() *kgo.Client {
	if cl := c.gcl.Load(); cl != nil {
		return cl
	}
	return c.cl
}

// holdLoop resolves the held partitions' starts until none is left or
// the consumer closes: each one resolved is stored (Handler.Resolved, while
// it is still held, so before a revoke drains its handler) and handed to
// Run, which starts it.
func (c *Consumer) holdLoop(done chan struct{}, said string) {
	defer close(done)
	saidAt := time.Now()
	for try := 0; ; try++ {
		select {
		case <-c.bg.Done():
			return
		case <-time.After(backoff(try)):
		}
		starts := map[TopicPartition]int64{}
		c.holdMu.Lock()
		for tp := range c.held {
			if _, ok := c.ready[tp]; !ok {
				starts[tp] = -1
			}
		}
		if len(starts) == 0 {
			c.holding = false
			c.holdMu.Unlock()
			c.clearUnlessHeld() // revoked while held: nothing is held now
			return
		}
		c.holdMu.Unlock()
		resolved, err := c.resolveStarts(c.bg, starts)
		c.holdMu.Lock()
		for tp := range resolved {
			if !c.held[tp] {
				delete(resolved, tp) // revoked meanwhile
			}
		}
		if len(resolved) > 0 {
			c.cfg.Handler.Resolved(resolved)
			maps.Copy(c.ready, resolved)
			if c.wake != nil {
				c.wake()
			}
		}
		if err != nil && c.bg.Err() == nil && len(c.held) > len(c.ready) {
			// Said again when it changes, and once a minute (another
			// fetch error may have taken its place in the status), not
			// on every try: each goes to the node's error log.
			herr := c.heldError(err)
			if herr.Error() != said || time.Since(saidAt) >= time.Minute {
				said, saidAt = herr.Error(), time.Now()
				c.failing.Store(true)
				c.cfg.Handler.FetchError(herr)
			}
		}
		c.holdMu.Unlock()
	}
}

// setWake records the cancel of Run's poll under way (nil: none), and
// calls it at once when a held partition is ready already.
func (c *Consumer) setWake(wake context.CancelFunc) {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	c.wake = wake
	if wake != nil && len(c.ready) > 0 {
		wake()
	}
}

// startReady sets each held partition whose start holdLoop stored to that
// start and resumes it (unless backpressure paused it). Run calls it
// between a poll and AllowRebalance, as SetOffsets asks. When the last
// held partition starts, the status clears.
func (c *Consumer) startReady() {
	c.holdMu.Lock()
	if len(c.ready) == 0 {
		c.holdMu.Unlock()
		return
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	resume := map[string][]int32{}
	for tp, at := range c.ready {
		delete(c.ready, tp)
		if !c.held[tp] {
			continue
		}
		delete(c.held, tp)
		if set[tp.Topic] == nil {
			set[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: at}
		if !c.paused[tp] {
			resume[tp.Topic] = append(resume[tp.Topic], tp.Partition)
		}
	}
	c.cl.SetOffsets(set)
	c.cl.ResumeFetchPartitions(resume)
	c.holdMu.Unlock()
	if len(set) > 0 {
		c.clearUnlessHeld()
	}
}

// clearUnlessHeld clears the status (FetchError(nil)) if it reports an
// error and no partition is held, under holdMu so that a hold reported
// meanwhile is not cleared with it.
func (c *Consumer) clearUnlessHeld() {
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	if len(c.held) == 0 && c.failing.CompareAndSwap(true, false) {
		c.cfg.Handler.FetchError(nil)
	}
}

// unhold forgets partitions that are revoked or lost: held ones are not
// resolved or started any more. (Their pauses are undone by onAssigned if
// they come back.)
func (c *Consumer) unhold(tps map[string][]int32) {
	c.holdMu.Lock()
	was := len(c.held)
	for t, ps := range tps {
		for _, p := range ps {
			tp := TopicPartition{t, p}
			delete(c.held, tp)
			delete(c.ready, tp)
		}
	}
	left := len(c.held)
	c.holdMu.Unlock()
	if was > 0 && left == 0 {
		c.clearUnlessHeld() // the held partitions went elsewhere
	}
}

// PauseTopic stops fetching every partition of a topic.
func (c *Consumer) PauseTopic(topic string) { c.cl.PauseFetchTopics(topic) }

// MarkCommit marks next as the partition's committed position (the data
// below it is durable). Marks are committed to the group right away — one
// commit in flight, later marks coalesced into the next — as well as every
// second and on revoke, so a node that dies for good leaves at most the
// batches of one commit round trip to be consumed again by the others.
func (c *Consumer) MarkCommit(tp TopicPartition, next int64) {
	c.cl.MarkCommitOffsets(map[string]map[int32]kgo.EpochOffset{tp.Topic: {tp.Partition: {Epoch: -1, Offset: next}}})
	select {
	case c.commitNow <- struct{}{}:
	default:
	}
}

// committer commits the marked offsets whenever MarkCommit asks, until ctx
// ends. Failures (a rebalance in progress, a broker away) are left to the
// next mark or the periodic commit.
func (c *Consumer) committer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.commitNow:
			c.commitMu.Lock()
			err := c.cl.CommitMarkedOffsets(ctx)
			c.commitMu.Unlock()
			if err != nil && ctx.Err() == nil && !errors.Is(err, kgo.ErrClientClosed) {
				c.cfg.Logger.Debug("committing offsets", "group", c.cfg.Group, "err", err)
			}
		}
	}
}

// Close commits what is marked and closes the clients. With leave, the
// static member leaves the group explicitly (exit kafka), so its partitions
// move at once; without it (a restart), the member keeps its identity and
// gets its partitions back within the session timeout.
func (c *Consumer) Close(ctx context.Context, leave bool) error {
	var errs []error
	if err := c.cl.CommitMarkedOffsets(ctx); err != nil && !errors.Is(err, kgo.ErrClientClosed) {
		errs = append(errs, fmt.Errorf("committing offsets: %w", err))
	}
	c.cl.CloseAllowingRebalance()
	c.bgStop()
	c.holdMu.Lock()
	done := c.holdDone
	c.holdMu.Unlock()
	if done != nil {
		<-done
	}
	if leave && c.cfg.InstanceID != "" {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.admin.LeaveGroup(lctx, kadm.LeaveGroup(c.cfg.Group).InstanceIDs(c.cfg.InstanceID).Reason("exit kafka"))
		cancel()
		if err != nil && !errors.Is(err, kerr.UnknownMemberID) {
			errs = append(errs, fmt.Errorf("leaving group %s: %w", c.cfg.Group, err))
		}
	}
	c.adcl.Close()
	return errors.Join(errs...)
}

// Ping checks that the brokers answer, for a clear error at command time.
func (c *Consumer) Ping(ctx context.Context) error {
	return c.cfg.Security.Explain(c.adcl.Ping(ctx))
}

// HighWatermarks returns the end offsets of the given topics.
func (c *Consumer) HighWatermarks(ctx context.Context, topics ...string) (map[TopicPartition]int64, error) {
	lo, err := c.admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			// The client retried what failed until the deadline: one
			// request without retries tells why (a refused password
			// looks like a closed connection, which is retried).
			if perr := probe(c.cfg.Brokers, c.cfg.Security); perr != nil {
				return nil, perr
			}
		}
		return nil, c.cfg.Security.Explain(err)
	}
	out := make(map[TopicPartition]int64)
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[TopicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	return out, nil
}

// CurrentIdentities reads the topics' identities from the brokers now (not
// the ones the consumer was assigned with): a topic whose identity differs
// was deleted and re-created. A topic missing from the metadata is left out.
func (c *Consumer) CurrentIdentities(ctx context.Context, topics ...string) (map[string]TopicIdentity, error) {
	md, err := c.admin.Metadata(ctx, topics...)
	if err != nil {
		return nil, c.cfg.Security.Explain(err)
	}
	out := make(map[string]TopicIdentity, len(topics))
	for _, t := range topics {
		if d, ok := md.Topics[t]; ok && d.Err == nil {
			out[t] = TopicIdentity{ClusterID: md.Cluster, TopicID: d.ID.String()}
		}
	}
	return out, nil
}

func (c *Consumer) identities(ctx context.Context, topics []string) (map[string]TopicIdentity, error) {
	c.mu.Lock()
	var missing []string
	out := make(map[string]TopicIdentity, len(topics))
	for _, t := range topics {
		if id, ok := c.ids[t]; ok {
			out[t] = id
		} else {
			missing = append(missing, t)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	md, err := c.admin.Metadata(ctx, missing...)
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %v: %w", missing, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range missing {
		d, ok := md.Topics[t]
		if !ok || d.Err != nil {
			return nil, fmt.Errorf("reading metadata of topic %s: %v", t, d.Err)
		}
		id := TopicIdentity{ClusterID: md.Cluster, TopicID: d.ID.String()}
		c.ids[t] = id
		out[t] = id
	}
	return out, nil
}

// partitionsOf is the topics and partitions of an adjust's offsets.
func partitionsOf(offsets map[string]map[int32]kgo.Offset) map[string][]int32 {
	out := make(map[string][]int32, len(offsets))
	for t, ps := range offsets {
		for p := range ps {
			out[t] = append(out[t], p)
		}
	}
	return out
}

func flatten(m map[string][]int32) []TopicPartition {
	var out []TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, TopicPartition{t, p})
		}
	}
	return out
}

func (c *Consumer) onAssigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	c.gcl.Store(cl)
	// The client keeps a partition's pause across assignments: one paused
	// for backpressure when it was revoked would come back paused, and its
	// new handler, which never paused it, would never resume it. (cl, not
	// c.cl: this may run before NewConsumer has set c.cl.)
	c.holdMu.Lock()
	for t, ps := range assigned {
		for _, p := range ps {
			delete(c.paused, TopicPartition{t, p})
		}
	}
	cl.ResumeFetchPartitions(assigned)
	c.holdMu.Unlock()
	topics := make([]string, 0, len(assigned))
	for t := range assigned {
		topics = append(topics, t)
	}
	// A topic created a moment ago may not be in every broker's metadata
	// yet: retry briefly before giving up.
	var ids map[string]TopicIdentity
	var err error
	for try := range 10 {
		if ids, err = c.identities(ctx, topics); err == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff(try)):
		}
	}
	if err == nil {
		err = c.cfg.Handler.Assigned(ctx, flatten(assigned), ids)
	}
	if err != nil {
		// Without an identity the partitions cannot be stored safely. The
		// handler restarts the consumer; nothing of these partitions is
		// marked meanwhile, so the next client reads them again.
		c.cfg.Handler.Failed(fmt.Errorf("assigning partitions: %w", err))
	}
}

func (c *Consumer) adjust(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	committed := make(map[TopicPartition]int64)
	for t, ps := range offsets {
		for p, o := range ps {
			at := o.EpochOffset().Offset
			if at < 0 {
				at = -1
			}
			committed[TopicPartition{t, p}] = at
		}
	}
	// Partitions with neither a stored nor a committed position start at
	// the reset policy's offset, resolved to a number here so that the node
	// stores it: a restart then resumes there instead of applying "latest"
	// again and losing what was produced while it was down.
	// A partition assigned now starts afresh: whatever was held of it
	// before (a revoke the client did not report) goes.
	c.unhold(partitionsOf(offsets))
	starts := c.cfg.Handler.StartOffsets(ctx, committed)
	resolved, err := c.resolveStarts(ctx, starts)
	for tp, at := range resolved {
		starts[tp] = at
	}
	if len(resolved) > 0 {
		c.cfg.Handler.Resolved(resolved)
	}
	if err != nil {
		if c.cfg.Reset != "earliest" {
			// Consuming from the client's own "latest" without a stored
			// start would let a restart before the first record apply
			// "latest" again and skip what was produced while the node
			// was down. So the partitions without a start are held:
			// assigned paused, resolved and stored in the background,
			// then started there. The others are consumed meanwhile.
			if ctx.Err() != nil {
				return nil, err
			}
			var unresolved []TopicPartition
			for tp, at := range starts {
				if at < 0 {
					unresolved = append(unresolved, tp)
				}
			}
			c.hold(unresolved, err)
		} else {
			// "earliest" from the client is safe unstored: a restart
			// before the first record reads from the log's start again.
			c.cfg.Logger.Warn("resolving start offsets; the client's own reset applies", "reset", "earliest", "err", err)
		}
	}
	for tp, at := range starts {
		if at >= 0 {
			offsets[tp.Topic][tp.Partition] = kgo.NewOffset().At(at).WithEpoch(-1)
		}
	}
	return offsets, nil
}

// resolveTimeout bounds one resolveStarts (the client retries within it):
// adjust must return well within the rebalance interval. What it cannot
// resolve, adjust holds and holdLoop asks again for.
const resolveTimeout = 5 * time.Second

// resolveStarts resolves the starts that StartOffsets left at -1 to numbers
// under the reset policy. It returns what it resolved, and an error naming
// the partitions it could not.
func (c *Consumer) resolveStarts(ctx context.Context, starts map[TopicPartition]int64) (map[TopicPartition]int64, error) {
	resolved := make(map[TopicPartition]int64)
	var topics []string
	for tp, at := range starts {
		if at < 0 && !slices.Contains(topics, tp.Topic) {
			topics = append(topics, tp.Topic)
		}
	}
	if len(topics) == 0 {
		return resolved, nil
	}
	actx, cancel := context.WithTimeout(ctx, resolveTimeout)
	var listed kadm.ListedOffsets
	var err error
	if c.cfg.Reset == "earliest" {
		listed, err = c.admin.ListStartOffsets(actx, topics...)
	} else {
		listed, err = c.admin.ListEndOffsets(actx, topics...)
	}
	cancel()
	var why error
	switch {
	case err != nil && ctx.Err() != nil:
		return resolved, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		why = fmt.Errorf("no answer within %v (the client retried what failed)", resolveTimeout)
	case err != nil:
		why = c.cfg.Security.Explain(err)
	default:
		listed.Each(func(o kadm.ListedOffset) {
			tp := TopicPartition{o.Topic, o.Partition}
			if at, ok := starts[tp]; !ok || at >= 0 {
				return
			}
			if o.Err != nil {
				why = fmt.Errorf("partition %s: %w", tp, o.Err)
				return
			}
			resolved[tp] = o.Offset
		})
	}
	var names []string
	for tp, at := range starts {
		if _, ok := resolved[tp]; at < 0 && !ok {
			names = append(names, tp.String())
		}
	}
	if len(names) == 0 {
		return resolved, nil
	}
	slices.Sort(names)
	if why == nil {
		why = errors.New("the brokers did not list them")
	}
	return resolved, fmt.Errorf("resolving the %s start offset of %s: %w", cmp.Or(c.cfg.Reset, "latest"), strings.Join(names, ", "), why)
}

func (c *Consumer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	c.unhold(revoked)
	c.cfg.Handler.Revoked(ctx, flatten(revoked))
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if err := cl.CommitMarkedOffsets(ctx); err != nil && !errors.Is(err, kgo.ErrClientClosed) {
		c.cfg.Logger.Warn("committing offsets on revoke", "err", err)
	}
}

func (c *Consumer) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	c.unhold(lost)
	c.cfg.Handler.Lost(flatten(lost))
}

// slogLogger adapts franz-go's logger to slog, one level quieter: the
// client's info lines are debug lines for a node operator.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Level() kgo.LogLevel {
	switch {
	case s.l.Enabled(context.Background(), slog.LevelDebug):
		return kgo.LogLevelInfo
	case s.l.Enabled(context.Background(), slog.LevelInfo):
		return kgo.LogLevelWarn
	}
	return kgo.LogLevelError
}

func (s slogLogger) Log(level kgo.LogLevel, msg string, kv ...any) {
	switch level {
	case kgo.LogLevelError:
		s.l.Warn("kafka: "+msg, kv...)
	case kgo.LogLevelWarn:
		s.l.Info("kafka: "+msg, kv...)
	default:
		s.l.Debug("kafka: "+msg, kv...)
	}
}

// String names the brokers the consumer reads from.
func (c *Consumer) String() string { return strings.Join(c.cfg.Brokers, ",") }

// probe sends one request without retries and returns why it failed,
// explained, or nil if it did not.
func probe(brokers []string, sec Security) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cl, err := sec.newClient(kgo.SeedBrokers(brokers...), kgo.RequestRetries(0))
	if err != nil {
		return err
	}
	defer cl.Close()
	return sec.Explain(cl.Ping(ctx))
}

// PingBrokers checks that one of the brokers answers, through the
// settings' TLS and SASL.
func PingBrokers(ctx context.Context, brokers []string, sec Security) error {
	cl, err := sec.newClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	return sec.Explain(cl.Ping(ctx))
}
