package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lakenode.partitions answers with the consumers' partitions as get msg
// client shows them: through sql (in dbms lakenode or qualified from any
// dbms) and over the PostgreSQL wire.
func TestPartitionsTable(t *testing.T) {
	n := startNodeWith(t, func(c *Config) { c.PGAddr, c.KafkaEmbedded, c.MinFree = "127.0.0.1:0", "127.0.0.1:0", 0 })
	ctx := context.Background()
	res := n.Execute(ctx, `run client () sql lakenode format = json "select count(*) as c from partitions"`, ExecOptions{})
	if res.Err != nil || !strings.Contains(res.Text, `"c": 0`) {
		t.Fatalf("no consumer: %v %s", res.Err, res.Text)
	}
	broker := n.EmbeddedBroker()
	host, port, _ := net.SplitHostPort(broker)
	cmd := fmt.Sprintf(`run kafka consumer where ip = %s and port = %s and reset = earliest and topic = (name = in and dbms = d and table = t and column.v.int = "bring [v]")`, host, port)
	if res := n.Execute(ctx, cmd, ExecOptions{}); res.Err != nil {
		t.Fatal(res.Err)
	}
	produceValues(t, broker, 30)
	type part struct {
		Topic     string
		Partition int64
		Lag       *int64 `json:"lag_messages"`
		State     string
		Rows      int64  `json:"rows_stored"`
		DBMS      string `json:"dbms"`
		Table     string `json:"table_name"`
	}
	var parts []part
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := n.Execute(ctx, `sql d format = json:list and stat = false "select topic, partition, lag_messages, state, rows_stored, dbms, table_name from lakenode.partitions order by partition"`, ExecOptions{})
		if res.Err != nil {
			t.Fatal(res.ErrorText())
		}
		parts = nil
		_ = json.Unmarshal([]byte(res.Text), &parts)
		var rows int64
		for _, p := range parts {
			rows += p.Rows
		}
		if rows == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions never showed 30 rows:\n%s", res.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range parts {
		if p.Topic != "in" || p.State != "consuming" || p.DBMS != "d" || p.Table != "t" || (p.Lag != nil && *p.Lag < 0) {
			t.Fatalf("partition row %+v", p)
		}
	}
	c, err := pgx.Connect(ctx, "postgres://grafana@"+n.PGAddr()+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var nparts, rows int64
	if err := c.QueryRow(ctx, `select count(*), sum(rows_stored) from lakenode.partitions where topic = $1`, "in").Scan(&nparts, &rows); err != nil || nparts != int64(len(parts)) || rows != 30 {
		t.Fatalf("over the wire: %d partitions, %d rows, %v", nparts, rows, err)
	}
}
