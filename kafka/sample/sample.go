// Package sample generates ping_sensor-like JSON messages for the demo and
// the benchmarks, and produces them at a steady rate.
package sample

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Generator writes messages shaped like EdgeLake's ping_sensor rows:
//
//	{"dbms":"lsl_demo","table":"ping_sensor","device_name":"device-0042","ip":"127.0.0.42",
//	 "unit":"ms","timestamp":"2026-11-24T18:00:00.223456Z","value":493,"status":"ok"}
//
// value is an integer (the seed maps it with column.value.int).
type Generator struct {
	Devices int // distinct device names; default 100
	rng     *rand.Rand
	buf     []byte
}

// NewGenerator returns a generator with a fixed seed, so runs are repeatable.
func NewGenerator(seed uint64) *Generator {
	return &Generator{Devices: 100, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Next returns the JSON of one message stamped ts. The slice is reused by
// the next call.
func (g *Generator) Next(ts time.Time) []byte {
	d := g.rng.IntN(max(g.Devices, 1))
	b := g.buf[:0]
	b = append(b, `{"dbms":"lsl_demo","table":"ping_sensor","device_name":"device-`...)
	b = append(b, fmt.Sprintf("%04d", d)...)
	b = append(b, `","ip":"127.0.`...)
	b = strconv.AppendInt(b, int64(d/250), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(d%250+1), 10)
	b = append(b, `","unit":"ms","timestamp":"`...)
	b = ts.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, `","value":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(1000)), 10)
	b = append(b, `,"status":"ok"}`...)
	g.buf = b
	return b
}

// Produce sends rate messages per second to topic on brokers until ctx ends,
// and calls progress with the running total after each second. Errors are
// retried by the client; Produce returns when ctx is done.
func Produce(ctx context.Context, brokers []string, topic string, rate int, progress func(sent int64)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("sample producer: %w", err)
	}
	defer cl.Close()
	g := NewGenerator(uint64(time.Now().UnixNano()))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	perTick := max(rate/10, 1)
	var sent int64
	lastReport := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			for range perTick {
				v := append([]byte(nil), g.Next(now)...)
				cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {})
				sent++
			}
			if progress != nil && now.Sub(lastReport) >= time.Second {
				lastReport = now
				progress(sent)
			}
		}
	}
}
