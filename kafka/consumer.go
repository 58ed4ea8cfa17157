package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// cleared (with FetchError(nil)) when records arrive again, or when an
	// assignment has every start offset it needs after adjust failed a
	// group session over one.
	failing atomic.Bool
	// startFails counts the group sessions adjust failed (each error a
	// *startError numbered so); startUp is the count when a later session
	// had every start. Run drops an injected *startError numbered at most
	// startUp: it comes late, and the session is up.
	startFails, startUp atomic.Uint64
}

// startError is the error with which adjust failed a group session, the
// gen-th; franz-go hands it to a later poll.
type startError struct {
	gen uint64
	err error
}

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// staleStart reports whether err is a failed session's start error that a
// later session, which had every start, has made stale.
func (c *Consumer) staleStart(err error) bool {
	var se *startError
	return errors.As(err, &se) && se.gen <= c.startUp.Load()
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
	c := &Consumer{cfg: cfg, ids: make(map[string]TopicIdentity), commitNow: make(chan struct{}, 1)}
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
		fetches := c.cl.PollRecords(ctx, c.cfg.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			c.cl.AllowRebalance()
			return ctx.Err()
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || c.staleStart(err) {
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
			// A session that had every start may have come up while
			// this poll's start error was on its way (and cleared the
			// status before the error was reported): clear it again.
			if c.staleStart(ferr) {
				c.failing.Store(false)
				c.cfg.Handler.FetchError(nil)
			}
		} else if fetches.NumRecords() > 0 && c.failing.CompareAndSwap(true, false) {
			c.cfg.Handler.FetchError(nil)
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
		if len(fetches.Errors()) == 0 || fetches.NumRecords() > 0 {
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
	c.cl.PauseFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
}

// Resume undoes Pause.
func (c *Consumer) Resume(tp TopicPartition) {
	c.cl.ResumeFetchPartitions(map[string][]int32{tp.Topic: {tp.Partition}})
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
	// The client keeps a partition's pause across assignments: one paused
	// for backpressure when it was revoked would come back paused, and its
	// new handler, which never paused it, would never resume it. (cl, not
	// c.cl: this may run before NewConsumer has set c.cl.)
	cl.ResumeFetchPartitions(assigned)
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
			// was down. So nothing of this assignment is consumed yet:
			// the group session fails (the error reaches Run's polls and
			// the handler's FetchError), the client rejoins after a
			// backoff, and the starts resolved so far are stored.
			if ctx.Err() != nil {
				return nil, err
			}
			c.cfg.Logger.Warn("resolving start offsets; the group rejoins to try again", "reset", "latest", "err", err)
			return nil, &startError{gen: c.startFails.Add(1), err: err}
		}
		// "earliest" from the client is safe unstored: a restart before
		// the first record reads from the log's start again.
		c.cfg.Logger.Warn("resolving start offsets; the client's own reset applies", "reset", "earliest", "err", err)
	} else if gen := c.startFails.Load(); gen > c.startUp.Load() {
		// A group session that failed over a start offset is up again:
		// say so now, not with the first record, which may be long in
		// coming; and if Run has not polled that failure yet, it drops it.
		c.startUp.Store(gen)
		if c.failing.CompareAndSwap(true, false) {
			c.cfg.Handler.FetchError(nil)
		}
	}
	for tp, at := range starts {
		if at >= 0 {
			offsets[tp.Topic][tp.Partition] = kgo.NewOffset().At(at).WithEpoch(-1)
		}
	}
	return offsets, nil
}

// resolveTries and resolveTimeout bound resolveStarts: for "latest" it asks
// the brokers resolveTries times (for "earliest" once), each for at most
// resolveTimeout (the client retries within it), before it gives up for
// this group session, since adjust must return well within the rebalance
// interval.
const (
	resolveTries   = 3
	resolveTimeout = 5 * time.Second
)

// resolveStarts resolves the starts that StartOffsets left at -1 to numbers
// under the reset policy, asking again (with a backoff) for those that
// failed. It returns what it resolved, and an error naming the partitions
// it could not.
func (c *Consumer) resolveStarts(ctx context.Context, starts map[TopicPartition]int64) (map[TopicPartition]int64, error) {
	resolved := make(map[TopicPartition]int64)
	left := func() []TopicPartition {
		var out []TopicPartition
		for tp, at := range starts {
			if _, ok := resolved[tp]; at < 0 && !ok {
				out = append(out, tp)
			}
		}
		return out
	}
	// With "earliest" the client's own reset is a safe fallback (adjust),
	// so asking again would only delay the start.
	tries := resolveTries
	if c.cfg.Reset == "earliest" {
		tries = 1
	}
	var lastErr error
	for try := range tries {
		todo := left()
		if len(todo) == 0 {
			return resolved, nil
		}
		if try > 0 {
			select {
			case <-ctx.Done():
				return resolved, ctx.Err()
			case <-time.After(backoff(try - 1)):
			}
		}
		topics := make([]string, 0, len(todo))
		for _, tp := range todo {
			if !slices.Contains(topics, tp.Topic) {
				topics = append(topics, tp.Topic)
			}
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
		if err != nil {
			if ctx.Err() != nil {
				return resolved, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no answer within %v (the client retried what failed)", resolveTimeout)
			}
			lastErr = c.cfg.Security.Explain(err)
			continue
		}
		listed.Each(func(o kadm.ListedOffset) {
			tp := TopicPartition{o.Topic, o.Partition}
			if at, ok := starts[tp]; !ok || at >= 0 {
				return
			}
			if o.Err != nil {
				lastErr = fmt.Errorf("partition %s: %w", tp, o.Err)
				return
			}
			resolved[tp] = o.Offset
		})
	}
	todo := left()
	if len(todo) == 0 {
		return resolved, nil
	}
	names := make([]string, len(todo))
	for i, tp := range todo {
		names[i] = tp.String()
	}
	slices.Sort(names)
	if lastErr == nil {
		lastErr = errors.New("the brokers did not list them")
	}
	return resolved, fmt.Errorf("resolving the %s start offset of %s after %d tries: %w", cmp.Or(c.cfg.Reset, "latest"), strings.Join(names, ", "), tries, lastErr)
}

func (c *Consumer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	c.cfg.Handler.Revoked(ctx, flatten(revoked))
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if err := cl.CommitMarkedOffsets(ctx); err != nil && !errors.Is(err, kgo.ErrClientClosed) {
		c.cfg.Logger.Warn("committing offsets on revoke", "err", err)
	}
}

func (c *Consumer) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
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
