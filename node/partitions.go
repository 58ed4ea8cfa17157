package node

import (
	"fmt"
	"time"

	"github.com/lakenode/lakenode/tables"
	"github.com/lakenode/lakenode/tables/schema"
	lsql "github.com/lakenode/lakenode/tables/sql"
)

// PartitionsTable is the system table lakenode.partitions: one row per
// partition the node's consumers own, taken when a query starts (the state
// get msg client shows), so SQL clients — Grafana's PostgreSQL data source
// among them — can chart ingest lag.
const PartitionsTable = "partitions"

var partitionsColumns = []schema.Column{
	{Name: "timestamp", Type: schema.TypeTimestamp}, // when the snapshot was taken
	{Name: "consumer", Type: schema.TypeInt},
	{Name: "group_id", Type: schema.TypeString},
	{Name: "topic", Type: schema.TypeString},
	{Name: "partition", Type: schema.TypeInt},
	{Name: "dbms", Type: schema.TypeString},
	{Name: "table_name", Type: schema.TypeString},
	{Name: "stored_offset", Type: schema.TypeInt},  // NULL until known
	{Name: "high_watermark", Type: schema.TypeInt}, // NULL until known
	{Name: "lag_messages", Type: schema.TypeInt},   // NULL until both are known; negative when the topic changed
	{Name: "state", Type: schema.TypeString},
	{Name: "messages", Type: schema.TypeInt},
	{Name: "rows_stored", Type: schema.TypeInt},
	{Name: "errors", Type: schema.TypeInt},
	{Name: "p50_ms", Type: schema.TypeInt},
	{Name: "p99_ms", Type: schema.TypeInt},
	{Name: "last_message", Type: schema.TypeTimestamp},
	{Name: "last_error", Type: schema.TypeString},
}

// queryStore is the store a query of dbms reads: the node's, or for
// lakenode.partitions a snapshot in memory, which done frees.
func (n *Node) queryStore(dbms, query string) (st *tables.Store, done func(), err error) {
	d, table, err := lsql.TableIn(dbms, query)
	if err != nil || d != tables.ErrorsDBMS || table != PartitionsTable {
		return n.store, func() {}, nil // the planner reports a bad query
	}
	st, err = tables.OpenMem(tables.WithNodeName(n.cfg.Name))
	if err != nil {
		return nil, nil, fmt.Errorf("lakenode.partitions: %w", err)
	}
	done = func() { _ = st.Close() }
	if err := n.fillPartitions(st, time.Now()); err != nil {
		done()
		return nil, nil, fmt.Errorf("lakenode.partitions: %w", err)
	}
	return st, done, nil
}

// fillPartitions writes the partitions' rows into st.
func (n *Node) fillPartitions(st *tables.Store, now time.Time) error {
	t, err := st.EnsureTable(tables.ErrorsDBMS, PartitionsTable, partitionsColumns)
	if err != nil {
		return err
	}
	diskFull := n.diskFullText()
	f := tables.Feed{Src: 1}
	for _, c := range n.consumerStatuses() {
		for _, p := range c.Status.Partitions {
			dbms, table := topicTarget(c, p.Topic)
			f.Records = append(f.Records, tables.Record{Offset: f.Next, Values: []schema.Value{
				schema.Timestamp(now), schema.Int(int64(c.ID)), schema.Str(c.Group), schema.Str(p.Topic), schema.Int(int64(p.Partition)),
				schema.Str(dbms), schema.Str(table), knownInt(p.LowWater), knownInt(p.HighWatermark), lagValue(p.KnownLag()),
				schema.Str(partitionState(p, diskFull)), schema.Int(p.Messages), schema.Int(p.Rows), schema.Int(p.Errors),
				schema.Int(p.P50.Milliseconds()), schema.Int(p.P99.Milliseconds()), timeValue(p.LastMessage), schema.Str(p.LastErrorText),
			}})
			f.Next++
		}
	}
	if len(f.Records) == 0 {
		return nil
	}
	_, err = st.Apply(t, []tables.Feed{f})
	return err
}

// topicTarget is the dbms and table a consumer's topic maps to, as get msg
// client writes them (a `bring` expression when the message names them).
func topicTarget(c consumerStatus, topic string) (string, string) {
	for _, t := range c.Spec.Topics {
		if t.Name == topic {
			return mappingText(t.DBMS), mappingText(t.Table)
		}
	}
	return "", ""
}

func knownInt(v int64) schema.Value {
	if v < 0 {
		return schema.Null
	}
	return schema.Int(v)
}

func lagValue(lag int64, known bool) schema.Value {
	if !known {
		return schema.Null
	}
	return schema.Int(lag)
}

func timeValue(t time.Time) schema.Value {
	if t.IsZero() {
		return schema.Null
	}
	return schema.Timestamp(t)
}
