package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/kafka/mapping"
	"github.com/lakenode/lakenode/kafka/spec"
	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
)

// tableTarget is where one table's rows go, and how a topic's mapped
// columns are laid out in that table.
type tableTarget struct {
	key   string // dbms.table
	table *schema.Table
	send  func(*RowBatch) // delivers to the table actor
	perm  []int           // topic column i -> index among the table's user columns
	nUser int
}

// chunk is one delivery of records: the low-water mark passes its end once
// every table it fed has acknowledged.
type chunk struct {
	id      uint64
	to      int64
	pending int
}

// rejected is a message the mapping refused.
type rejected struct {
	rec    kafka.Record
	reason string
	detail string
}

// policyFailure is the stop of a partition under `errors = fail`.
type policyFailure struct {
	offset int64
	reason string
	detail string
}

// partitionCore is the logic of a partition actor: map records into
// per-table batches, apply the topic's error policy, and advance the
// low-water mark as tables acknowledge.
type partitionCore struct {
	tp         kafka.TopicPartition
	src        uint32
	session    uint64
	consumerID string
	ev         *mapping.Evaluator
	policy     spec.ErrorPolicy
	// resolve returns the target of a table, creating it if needed, for a
	// message's columns. errTarget is the error table's target.
	resolve   func(dbms, table string) (*tableTarget, error)
	errTarget func() (*tableTarget, error)
	now       func() time.Time

	expect    int64 // next offset to map; -1 until known
	lwm       int64 // everything below is durable; -1 until known
	nextChunk uint64
	chunks    []chunk
	seqs      map[string]uint64
	failed    *policyFailure
	// halt is set when a table this partition feeds cannot take rows
	// (its writer stopped for good): mapping stops before that record.
	halt error
	// need is a table the resolver has not resolved yet: mapping stopped
	// before the record that needs it, and resumes from that record once
	// the partition actor has the catalog's answer.
	need     *needTable
	dlqChunk uint64 // the chunk whose dead-letter produce is pending
	stats    *PartitionStats
	rowsBuf  []mapping.Row
}

func newPartitionCore(tp kafka.TopicPartition, src uint32, session uint64) *partitionCore {
	return &partitionCore{tp: tp, src: src, session: session, expect: -1, lwm: -1, seqs: make(map[string]uint64), now: time.Now}
}

// startAt sets where consumption starts (-1: the reset policy decides).
func (p *partitionCore) startAt(off int64) {
	p.expect, p.lwm = off, off
}

type builtBatch struct {
	target *tableTarget
	batch  *RowBatch
}

// process maps records into batches, one per table fed. Messages the mapping
// rejects go by the topic's policy: counted (skip), into the error table's
// batch (table), returned for the dead-letter topic (dlq), or stopping the
// partition (fail).
func (p *partitionCore) process(recs []kafka.Record) ([]builtBatch, []rejected) {
	if p.failed != nil || p.halt != nil || len(recs) == 0 {
		return nil, nil
	}
	byKey := make(map[string]*builtBatch)
	var order []*builtBatch
	add := func(t *tableTarget, r tables.Record, stamp int64) {
		b := byKey[t.key]
		if b == nil {
			b = &builtBatch{target: t, batch: &RowBatch{Table: t.table, Session: p.session, Feed: tables.Feed{Src: p.src, Partition: p.tp.Partition}}}
			byKey[t.key] = b
			order = append(order, b)
		}
		b.batch.Feed.Records = append(b.batch.Feed.Records, r)
		b.batch.Stamps = append(b.batch.Stamps, stamp)
	}
	var dlq []rejected
	end := int64(-1)
	now := p.now()
	targets := make([]*tableTarget, 0, 4)
	for _, rec := range recs {
		if p.expect >= 0 && rec.Offset < p.expect {
			continue // already mapped (a fetch from before a seek)
		}
		stamp := rec.Timestamp.UnixMilli()
		rows, rej := p.ev.Map(rec.Value, now, p.rowsBuf[:0])
		p.rowsBuf = rows[:0]
		var reason, detail string
		if rej != nil {
			reason, detail = rej.Reason.String(), rej.Detail
		} else {
			targets, reason, detail = p.targetsOf(rec, rows, targets[:0])
		}
		if p.halt != nil || p.need != nil {
			break
		}
		if reason != "" {
			if p.policy.Kind == spec.ErrorsDLQ {
				dlq = append(dlq, rejected{rec, reason, detail})
			} else if p.reject(rec, reason, detail, now, add); p.need != nil {
				break
			}
			p.stats.message(now)
			p.stats.reject(now, reason, detail)
			if p.failed != nil {
				end = rec.Offset
				break
			}
			end = rec.Offset + 1
			continue
		}
		for i, row := range rows {
			t := targets[i]
			vals := make([]schema.Value, t.nUser)
			for ci, v := range row.Values {
				vals[t.perm[ci]] = v
			}
			add(t, tables.Record{Offset: rec.Offset, Elem: int32(row.Elem), Values: vals}, stamp)
		}
		p.stats.message(now)
		p.stats.accept(len(rows))
		if p.ev.Repaired() > 0 {
			p.stats.repaired()
		}
		end = rec.Offset + 1
	}
	if end < 0 {
		return nil, nil
	}
	id := p.nextChunk
	p.nextChunk++
	out := make([]builtBatch, 0, len(order))
	for _, b := range order {
		b.batch.Seq = p.seqs[b.target.key]
		p.seqs[b.target.key]++
		b.batch.Chunk = id
		b.batch.Feed.Next = end
		out = append(out, *b)
	}
	pending := len(out)
	if len(dlq) > 0 {
		// The chunk is not done before its rejected messages reached the
		// dead-letter topic (dlqDone).
		pending++
		p.dlqChunk = id
	}
	p.chunks = append(p.chunks, chunk{id: id, to: end, pending: pending})
	p.expect = end
	p.advance()
	return out, dlq
}

// targetsOf resolves the table of each row of rec; a table that cannot be
// resolved makes rec a rejected message (reason, detail), and one whose
// writer stopped for good halts the partition.
func (p *partitionCore) targetsOf(rec kafka.Record, rows []mapping.Row, targets []*tableTarget) ([]*tableTarget, string, string) {
	for _, row := range rows {
		t, err := p.resolve(row.DBMS, row.Table)
		if need, ok := errors.AsType[*needTable](err); ok {
			p.need = need
			return targets, "", ""
		}
		if errors.Is(err, ErrWriterStopped) {
			p.halt = fmt.Errorf("partition %s at offset %d: %w", p.tp, rec.Offset, err)
			return targets, "", ""
		}
		if err != nil {
			return targets, "table_error", mapping.ClipText(err.Error(), mapping.MaxReasonBytes-len("table_error: "))
		}
		targets = append(targets, t)
	}
	return targets, "", ""
}

// reject applies the skip, fail or table policy to a rejected message;
// add puts a record into its table's batch.
func (p *partitionCore) reject(rec kafka.Record, reason, detail string, now time.Time, add func(*tableTarget, tables.Record, int64)) {
	switch p.policy.Kind {
	case spec.ErrorsSkip:
	case spec.ErrorsFail:
		p.failed = &policyFailure{offset: rec.Offset, reason: reason, detail: detail}
	default:
		t, err := p.errTarget()
		if need, ok := errors.AsType[*needTable](err); ok {
			p.need = need
			return
		}
		if err != nil {
			// Without an error table the message would be lost: stop here
			// instead.
			p.failed = &policyFailure{offset: rec.Offset, reason: reason, detail: detail + "; error table: " + err.Error()}
			return
		}
		add(t, tables.Record{Offset: rec.Offset, Values: []schema.Value{
			schema.Str(p.consumerID), schema.Str(rec.Topic), schema.Int(int64(rec.Partition)), schema.Int(rec.Offset),
			schema.Str(reason + ": " + detail), schema.Timestamp(now), schema.Str(string(rec.Value)),
		}}, rec.Timestamp.UnixMilli())
	}
}

// ack applies a table's answer. It returns whether the low-water mark moved;
// an error means a batch was lost and the partition must restart from its
// low-water mark.
func (p *partitionCore) ack(a *BatchAck) (bool, error) {
	if a.Err != nil {
		return false, fmt.Errorf("partition %s: %w", p.tp, a.Err)
	}
	for i := range p.chunks {
		if p.chunks[i].id == a.Batch.Chunk {
			p.chunks[i].pending--
			break
		}
	}
	commit := a.Result.CommitTime.UnixMilli()
	p.stats.visible(a.Batch.Stamps, commit)
	return p.advance(), nil
}

// dlqDone notes that the pending chunk's rejected messages reached the
// dead-letter topic; it returns whether the low-water mark moved.
func (p *partitionCore) dlqDone() bool {
	for i := range p.chunks {
		if p.chunks[i].id == p.dlqChunk {
			p.chunks[i].pending--
			break
		}
	}
	return p.advance()
}

func (p *partitionCore) advance() bool {
	moved := false
	for len(p.chunks) > 0 && p.chunks[0].pending == 0 {
		p.lwm = p.chunks[0].to
		p.chunks = p.chunks[1:]
		moved = true
	}
	if moved {
		p.stats.setLowWater(p.lwm)
	}
	return moved
}

// inFlight is the number of chunks not yet fully acknowledged.
func (p *partitionCore) inFlight() int { return len(p.chunks) }
