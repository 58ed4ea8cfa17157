// Package spec holds the parsed form of `run kafka consumer`: the consumer, its
// topics and their mapping instructions. node/command produces it, the
// mapping compiler and the consumer read it.
package spec

import (
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// ConsumerSpec is a parsed `run kafka consumer` command: what to consume and
// how to map it. node/command produces it; the consumer actor runs it.
type ConsumerSpec struct {
	IP      string // broker host
	Port    string // broker port
	Reset   string // "latest" (default) or "earliest"
	Threads int    // partitions decoded in parallel; EdgeLake default 3
	Group   string // consumer group; "" means lakenode-<node name>
	Topics  []TopicSpec
	// Security is the TLS and SASL settings of every client of the
	// consumer (group, admin, dead-letter producer, pings).
	Security Security
}

// Broker returns "ip:port".
func (c *ConsumerSpec) Broker() string { return c.IP + ":" + c.Port }

// ErrorPolicy says what happens to a message that cannot be mapped.
type ErrorPolicy struct {
	Kind     ErrorPolicyKind
	DLQTopic string // for ErrorsDLQ
}

// ErrorPolicyKind is one of the `errors = ...` choices of a topic.
type ErrorPolicyKind uint8

// Error policies (`errors = skip|table|fail|dlq:TOPIC`); the default is table.
const (
	ErrorsTable ErrorPolicyKind = iota // keep the message in lakenode.kafka_errors
	ErrorsSkip                         // count and drop
	ErrorsFail                         // stop the topic at the bad message
	ErrorsDLQ                          // produce it to DLQTopic with reason headers
)

// String is the policy as written in a command.
func (p ErrorPolicy) String() string {
	switch p.Kind {
	case ErrorsSkip:
		return "skip"
	case ErrorsFail:
		return "fail"
	case ErrorsDLQ:
		return "dlq:" + p.DLQTopic
	}
	return "table"
}

// TopicSpec is one `topic = (...)` declaration.
type TopicSpec struct {
	Name    string
	DBMS    Expr // literal or bring; names normalised after evaluation
	Table   Expr
	Columns []ColumnSpec // in declaration order
	Errors  ErrorPolicy
}

// ColumnSpec is one `column.NAME.TYPE = "..."` or
// `column.NAME = (type = .. and value = .. and optional = ..)`.
type ColumnSpec struct {
	Name     string
	Type     schema.Type // declared type; TypeInvalid when TypeExpr is set
	TypeExpr *Expr       // type brought from the message (long form only)
	Value    Expr
	Optional bool
}

// Expr is a mapping instruction: a literal, `now`, or a bring.
type Expr struct {
	Kind ExprKind
	// Literal is the constant for ExprLiteral.
	Literal string
	// Parts are the words of a bring, in order: key paths and literals,
	// concatenated into the result.
	Parts []BringPart
	// Text is the instruction as written, for `get msg client`.
	Text string
}

// ExprKind is the kind of a mapping instruction.
type ExprKind uint8

// Expression kinds.
const (
	ExprLiteral ExprKind = iota
	ExprNow
	ExprBring
)

// BringPart is one word of a bring: a literal or a key path with alternatives.
type BringPart struct {
	Literal string // when Paths is empty
	// Paths holds the alternatives of an OR word `[a][b]:[a][c]`: the first
	// that exists is taken. Each path is a list of steps.
	Paths [][]PathStep
}

// PathStep is one bracket of a key path.
type PathStep struct {
	Key     string // object key
	Index   int    // list index when IsIndex
	IsIndex bool
	Each    bool // `[]`: for each element of the list
}

// SpecClock is what a mapping reads the time from; tests pass a fixed one.
type SpecClock func() time.Time
