package command

import (
	"reflect"
	"testing"

	"github.com/lakenode/lakenode/kafka/spec"
)

func TestResetOffsets(t *testing.T) {
	cases := []okCase{
		{"reset offsets where topic = ping_data and to = earliest", &ResetOffsets{Topic: "ping_data", Earliest: true}},
		{"RESET OFFSETS where topic = ping_data and group = g2 and to = LATEST", &ResetOffsets{Topic: "ping_data", Group: "g2", Latest: true}},
		{"reset offsets where to = 125000 and topic = t", &ResetOffsets{Topic: "t", Offset: 125000}},
		{"reset offsets where topic = t and to = 0", &ResetOffsets{Topic: "t"}},
		{"reset offsets where ip = !ip and port = 9094 and topic = t and to = earliest and sasl = scram-sha-512 and user = u and password = $LAKENODE_PW and tls_ca = ca.pem",
			&ResetOffsets{Topic: "t", Earliest: true, IP: "127.0.0.1", Port: "9094",
				Security: spec.Security{TLS: true, CA: "ca.pem", SASL: "scram-sha-512", User: "u", Password: "$LAKENODE_PW"}}},
	}
	for _, c := range cases {
		got, err := Parse(c.line, testVars)
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
	r := &ResetOffsets{Topic: "t", IP: "h", Port: "1", Offset: 7}
	if r.Broker() != "h:1" || r.To() != "7" || (&ResetOffsets{}).Broker() != "" || (&ResetOffsets{Latest: true}).To() != "latest" {
		t.Errorf("Broker %q To %q", r.Broker(), r.To())
	}

	usage := "usage: reset offsets where topic = TOPIC [and group = NAME] and to = earliest|latest|OFFSET [and ip = IP and port = PORT and the consumer's tls and sasl keys]"
	errs := []errCase{
		{"reset offsets", statusStructure, usage, ""},
		{"reset offsets where topic = t", statusStructure, usage, ""},
		{"reset offsets where to = earliest", statusStructure, usage, ""},
		{"reset offsets where topic = t and to = soon", statusWrongValue, "The value 'soon' is not allowed for the key 'to' (earliest, latest or an offset)", "soon"},
		{"reset offsets where topic = t and to = -5", statusWrongValue, "The value '-5' is not allowed for the key 'to' (earliest, latest or an offset)", "-5"},
		{"reset offsets where topic = t and to = 1 and to = 2", statusStructure, "Duplicate key in AnyLog command: to", "to = 2"},
		{"reset offsets where topic = t and to = 1 and colour = red", statusStructure, "Unknown key in AnyLog command: colour", "colour"},
		{"reset offsets where topic = t and to = 1 and ip = h", statusStructure, "reset offsets: ip and port go together, and tls or sasl keys need them; without them the node uses the broker and keys of the last consumer of the topic it ran", ""},
		{"reset offsets where topic = t and to = 1 and tls = true", statusStructure, "reset offsets: ip and port go together, and tls or sasl keys need them; without them the node uses the broker and keys of the last consumer of the topic it ran", ""},
		{"reset offsets where topic = t and to = 1 and ip = h and port = 99999", statusWrongValue, "The value '99999' is not allowed for the key 'port' (a port number)", "99999"},
		{"reset offsets where topic = (a = b) and to = 1", statusWrongValue, "The key 'topic' takes a value, not a list", "(a"},
	}
	for _, c := range errs {
		checkErr(t, c, testVars)
	}
}
