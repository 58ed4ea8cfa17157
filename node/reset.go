package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables"
)

// rememberTopics notes the consumer as the last one run for each of its
// topics, so that `reset offsets` finds its broker, keys and group after
// `exit kafka`. n.mu is held.
func (n *Node) rememberTopics(cfg actors.ConsumerConfig) {
	if n.ranTopics == nil {
		n.ranTopics = map[string]actors.ConsumerConfig{}
	}
	for _, t := range cfg.Spec.Topics {
		n.ranTopics[t.Name] = cfg
	}
}

// resetOffsets runs `reset offsets`: with no consumer of the topic running
// here (and no member in its group anywhere), every partition of the topic
// moves to the target in the group's committed offsets and in this node's
// low-water marks of the topic's current identity. A table holding records
// of the topic at or after the new offset loses those rows, which the next
// run reads again: each record of the log from there is stored once.
func (n *Node) resetOffsets(ctx context.Context, r *command.ResetOffsets) Result {
	n.mu.Lock()
	for _, c := range n.consumers {
		for _, t := range c.Config.Spec.Topics {
			if t.Name == r.Topic {
				n.mu.Unlock()
				return failf("reset offsets: consumer %d reads topic %s on this node; run `exit kafka` first", c.Config.ID, r.Topic)
			}
		}
	}
	ran, hasRan := n.ranTopics[r.Topic]
	n.mu.Unlock()

	broker, group := r.Broker(), r.Group
	var sec kafka.Security
	switch {
	case broker != "":
		var err error
		if sec, err = n.kafkaSecurity(r.Security); err != nil {
			return fail(fmt.Errorf("reset offsets: %w", err))
		}
	case hasRan:
		broker, sec = ran.Spec.Broker(), ran.Kafka
	default:
		return failf("reset offsets: this node has not run a consumer of topic %s since it started; give its broker and keys: reset offsets where ip = IP and port = PORT and topic = %s and to = %s (with the consumer's tls and sasl keys)", r.Topic, r.Topic, r.To())
	}
	if group == "" {
		if hasRan && (broker == ran.Spec.Broker()) {
			group = ran.Group
		} else {
			group = "lakenode-" + n.cfg.Name
		}
	}
	target := kafka.ResetTarget{Earliest: r.Earliest, Latest: r.Latest, Offset: r.Offset}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := kafka.ResetGroupOffsets(cctx, []string{broker}, sec, group, r.Topic, target, n.log)
	if err != nil {
		return fail(fmt.Errorf("reset offsets of %s (group %s, broker %s): %w", r.Topic, group, broker, err))
	}
	src, err := n.store.SourceID(res.Identity.ClusterID, res.Identity.TopicID)
	if err != nil {
		return internal(fmt.Errorf("reset offsets: %w", err))
	}
	next := make(map[int32]int64, len(res.Partitions))
	for i, p := range res.Partitions {
		if v, ok := n.store.LowWater(src, p.Partition); ok {
			res.Partitions[i].OldStored = v
		}
		next[p.Partition] = p.NewOffset
	}
	rewound, err := n.store.ResetPositions(src, next)
	if err != nil {
		return internal(fmt.Errorf("reset offsets: the group's offsets of %s are reset, the node's are not (run the command again): %w", r.Topic, err))
	}
	n.log.Info("offsets reset", "topic", r.Topic, "group", group, "to", r.To(), "partitions", len(res.Partitions))
	return text(resetReply(r.Topic, group, r.To(), res.Partitions, rewound))
}

// resetReply shows each partition's positions before and after, and what
// the next run of the consumer will read.
func resetReply(topic, group, to string, parts []kafka.PartitionReset, rewound []tables.Rewound) string {
	tbl := output.Table{Indent: "    ", Header: [][]string{{"Partition", "Log start", "High watermark", "Stored before", "Group offset before", "New offset", "Next run"}}}
	for _, p := range parts {
		before := max(p.OldStored, p.Committed)
		next := fmt.Sprintf("reads %d messages", p.HighWater-p.NewOffset)
		switch {
		case before >= 0 && p.NewOffset < before:
			next += fmt.Sprintf(" (%d again)", min(before, p.HighWater)-p.NewOffset)
		case before >= 0 && p.NewOffset > before:
			next += fmt.Sprintf(" (%d skipped)", p.NewOffset-before)
		}
		tbl.Rows = append(tbl.Rows, []string{strconv.Itoa(int(p.Partition)), strconv.FormatInt(p.LogStart, 10), strconv.FormatInt(p.HighWater, 10),
			offText(p.OldStored), offText(p.Committed), strconv.FormatInt(p.NewOffset, 10), next})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Offsets of topic %s reset to %s for group %s and this node; start the consumer again to read from there.\n", topic, to, group)
	b.WriteString(tbl.String())
	for _, rw := range rewound {
		fmt.Fprintf(&b, "Table %s: %d rows from the new offsets on removed; the consumer stores them again, once.\n", rw.Table, rw.Rows)
	}
	return b.String()
}
