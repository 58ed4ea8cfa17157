package integration

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lakenode/lakenode/kafka/kafkatest"
)

// TestPostgresEndpoint: a node's PostgreSQL endpoint answers psql (Debian's
// postgresql-client, a prerequisite of the tests) and pgx over rows its
// consumer stored, as sql does.
func TestPostgresEndpoint(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql is not installed: it is a prerequisite of the tests (Debian: apt-get install postgresql-client)")
	}
	b := kafkatest.Shared(t)
	topic := "pg_seed"
	kafkatest.CreateTopic(t, b, topic, 2)
	now := time.Now()
	var vals [][]byte
	for i := range 50 {
		vals = append(vals, pingMessage(i, now.Add(-time.Duration(i)*time.Hour)))
	}
	kafkatest.Produce(t, b, topic, vals...)
	consumer := strings.Replace(seedConsumer(b.Addr(), topic, "earliest"), `column.value.int = "bring [value]"`,
		`column.value.int = "bring [value]" and column.device_name.str = "bring [device_name]"`, 1)
	pg := freeAddr(t)
	n := startNode(t, "pg", t.TempDir(), consumer, "--pg", pg)
	waitFor(t, 60*time.Second, func() bool { return n.rowCount("lsl_demo", "ping_sensor") == 50 }, "50 rows")

	host, port, _ := strings.Cut(pg, ":")
	out, err := exec.Command(psql, "-X", "-A", "-t", "-h", host, "-p", port, "-d", "lsl_demo", "-U", "grafana",
		"-c", `\dt`, "-c", "select count(*) from ping_sensor where timestamp > now() - interval '1 day'").CombinedOutput()
	if err != nil || string(out) != "public|ping_sensor|table|lakenode\n24\n" {
		t.Fatalf("psql: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://app@"+pg+"/lsl_demo?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var count int64
	var newest time.Time
	if err := c.QueryRow(ctx, `select count(*), max("timestamp") from ping_sensor where value >= $1`, 25).Scan(&count, &newest); err != nil {
		t.Fatal(err)
	}
	r := n.exec(`sql lsl_demo format = json and stat = false "select count(*) from ping_sensor where value >= 25"`)
	if !strings.Contains(r.Body, `"count(*)": `+strconv.FormatInt(count, 10)) {
		t.Errorf("pgx counted %d, sql answered %s", count, r.Body)
	}
	if newest.IsZero() || newest.After(time.Now()) {
		t.Errorf("max(timestamp) over the wire: %v", newest)
	}
}
