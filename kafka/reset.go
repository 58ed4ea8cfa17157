package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ResetTarget is where `reset offsets` moves every partition of a topic:
// its log start (Earliest), its end (Latest), or Offset.
type ResetTarget struct {
	Earliest, Latest bool
	Offset           int64
}

func (t ResetTarget) String() string {
	switch {
	case t.Earliest:
		return "earliest"
	case t.Latest:
		return "latest"
	}
	return fmt.Sprint(t.Offset)
}

// PartitionReset is one partition's position before and after a reset.
type PartitionReset struct {
	Partition int32
	LogStart  int64 // the first offset the broker holds
	HighWater int64 // the end of the log
	Committed int64 // the group's committed offset before the reset; -1 none
	NewOffset int64
	OldStored int64 // filled by the node: its low-water mark before; -1 none
}

// ResetResult is what ResetGroupOffsets did.
type ResetResult struct {
	Identity   TopicIdentity
	Partitions []PartitionReset // by partition
}

// resolveResets computes each partition's new offset from the log's range.
// An explicit offset must lie within [log start, end] of every partition:
// outside it would be moved by the broker anyway (skipping or re-reading
// what the operator did not ask for), so it is refused with the ranges.
func resolveResets(t ResetTarget, starts, ends, committed map[int32]int64) ([]PartitionReset, error) {
	if len(ends) == 0 {
		return nil, errors.New("the topic has no partitions")
	}
	var out []PartitionReset
	var bad []string
	for p, end := range ends {
		start, ok := starts[p]
		if !ok {
			return nil, fmt.Errorf("partition %d: no log start offset", p)
		}
		c, ok := committed[p]
		if !ok {
			c = -1
		}
		r := PartitionReset{Partition: p, LogStart: start, HighWater: end, Committed: c, OldStored: -1}
		switch {
		case t.Earliest:
			r.NewOffset = start
		case t.Latest:
			r.NewOffset = end
		default:
			if t.Offset < start || t.Offset > end {
				bad = append(bad, fmt.Sprintf("partition %d holds %d to %d", p, start, end))
			}
			r.NewOffset = t.Offset
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b PartitionReset) int { return int(a.Partition - b.Partition) })
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, fmt.Errorf("offset %d is outside the log of %s (an offset must be within every partition's range; use earliest or latest otherwise)", t.Offset, strings.Join(bad, ", "))
	}
	return out, nil
}

// ResetGroupOffsets moves group's committed offsets of every partition of
// topic to target and returns the topic's identity and each partition's
// positions. It refuses while the group has members (a consumer of the
// group runs somewhere): the members would overwrite the offsets. Every
// client uses sec, as the consumer's do.
func ResetGroupOffsets(ctx context.Context, brokers []string, sec Security, group, topic string, target ResetTarget, logger *slog.Logger) (ResetResult, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl, err := sec.newClient(kgo.SeedBrokers(brokers...), kgo.RetryBackoffFn(backoff), kgo.WithLogger(slogLogger{logger}))
	if err != nil {
		return ResetResult{}, fmt.Errorf("creating the admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	explain := func(what string, err error) error {
		if errors.Is(err, context.DeadlineExceeded) {
			if perr := probe(brokers, sec); perr != nil {
				err = perr
			}
		}
		return fmt.Errorf("%s: %w", what, sec.Explain(err))
	}
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return ResetResult{}, explain("reading the metadata of "+topic, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return ResetResult{}, fmt.Errorf("topic %s: %v (does it exist on %s?)", topic, td.Err, strings.Join(brokers, ","))
	}
	res := ResetResult{Identity: TopicIdentity{ClusterID: md.Cluster, TopicID: td.ID.String()}}

	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return res, explain("describing group "+group, err)
	}
	if g, ok := groups[group]; ok && g.Err == nil && len(g.Members) > 0 {
		var who []string
		for _, m := range g.Members {
			id := m.MemberID
			if m.InstanceID != nil {
				id = *m.InstanceID
			}
			who = append(who, id+" on "+m.ClientHost)
		}
		return res, fmt.Errorf("group %s has %d active member(s) (%s): stop the consumers of this group on every node (exit kafka) first", group, len(who), strings.Join(who, ", "))
	}

	listed := func(what string, lo kadm.ListedOffsets, err error) (map[int32]int64, error) {
		if err != nil {
			return nil, explain("listing the "+what+" offsets of "+topic, err)
		}
		out := map[int32]int64{}
		for p, o := range lo[topic] {
			if o.Err != nil {
				return nil, fmt.Errorf("listing the %s offset of %s[%d]: %w", what, topic, p, o.Err)
			}
			out[p] = o.Offset
		}
		return out, nil
	}
	lo, err := adm.ListStartOffsets(ctx, topic)
	starts, err := listed("start", lo, err)
	if err != nil {
		return res, err
	}
	lo, err = adm.ListEndOffsets(ctx, topic)
	ends, err := listed("end", lo, err)
	if err != nil {
		return res, err
	}
	fetched, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return res, explain("reading the offsets of group "+group, err)
	}
	committed := map[int32]int64{}
	for p, o := range fetched[topic] {
		if o.Err == nil && o.At >= 0 {
			committed[p] = o.At
		}
	}
	parts, err := resolveResets(target, starts, ends, committed)
	if err != nil {
		return res, err
	}
	var offs kadm.Offsets
	for _, r := range parts {
		offs.Add(kadm.Offset{Topic: topic, Partition: r.Partition, At: r.NewOffset, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctx, group, offs); err != nil {
		return res, explain("committing the offsets of group "+group, err)
	}
	res.Partitions = parts
	return res, nil
}
