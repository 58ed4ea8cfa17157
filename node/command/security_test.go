package command

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/lakenode/lakenode/kafka/spec"
)

func TestSecurityKeys(t *testing.T) {
	cases := []struct {
		keys string
		want spec.Security
	}{
		{`tls = true`, spec.Security{TLS: true}},
		{`tls_ca = ca.pem`, spec.Security{TLS: true, CA: "ca.pem"}},
		{`tls = true and tls_cert = c.pem and tls_key = "k.pem"`, spec.Security{TLS: true, Cert: "c.pem", Key: "k.pem"}},
		{`tls_skip_verify = true`, spec.Security{TLS: true, SkipVerify: true}},
		{`tls_skip_verify = false`, spec.Security{}},
		{`sasl = SCRAM-SHA-512 and user = app and password = "s3cr et"`, spec.Security{SASL: "scram-sha-512", User: "app", Password: "s3cr et"}},
		{`tls = true and sasl = plain and user = $LAKENODE_USER and password = $LAKENODE_KAFKA_PASSWORD`, spec.Security{TLS: true, SASL: "plain", User: "$LAKENODE_USER", Password: "$LAKENODE_KAFKA_PASSWORD"}},
		{`tls_ca = $LAKENODE_CA`, spec.Security{TLS: true, CA: "$LAKENODE_CA"}},
	}
	for _, c := range cases {
		s := parseConsumerSpec(t, consumerBase+c.keys+" and "+consumerTopic, nil)
		if s.Security != c.want {
			t.Errorf("consumer %s:\n got %#v\nwant %#v", c.keys, s.Security, c.want)
		}
		line := `sql d format = json:output and dest = kafka@127.0.0.1:9093 and topic = out and ` + c.keys + ` "select * from t"`
		req, err := Parse(line, nil)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if got := req.(*SQL).Options.Kafka; got != c.want {
			t.Errorf("sql %s:\n got %#v\nwant %#v", c.keys, got, c.want)
		}
	}
}

var securityErrorCases = []errCase{
	{consumerBase + `tls_cert = c.pem and ` + consumerTopic, statusStructure, "tls_cert needs tls_key = FILE too (the client certificate and its key)", "tls_cert"},
	{consumerBase + `tls_key = k.pem and ` + consumerTopic, statusStructure, "tls_key needs tls_cert = FILE too (the client certificate and its key)", "tls_key"},
	{consumerBase + `tls = false and tls_ca = ca.pem and ` + consumerTopic, statusStructure, "tls_ca needs TLS, but tls = false", "tls_ca"},
	{consumerBase + `tls = maybe and ` + consumerTopic, statusWrongValue, "The value 'maybe' is not allowed for the key 'tls'", "maybe"},
	{consumerBase + `tls_skip_verify = true and tls_ca = ca.pem and ` + consumerTopic, statusStructure, "", "tls_skip_verify"},
	{consumerBase + `sasl = gssapi and user = u and password = p and ` + consumerTopic, statusWrongValue, "The value 'gssapi' is not allowed for the key 'sasl' (plain, scram-sha-256, scram-sha-512)", "gssapi"},
	{consumerBase + `sasl = plain and user = u and ` + consumerTopic, statusStructure, "sasl = plain needs user = NAME and password = SECRET", "sasl"},
	{consumerBase + `sasl = plain and password = p and ` + consumerTopic, statusStructure, "sasl = plain needs user = NAME and password = SECRET", "sasl"},
	{consumerBase + `user = u and password = p and ` + consumerTopic, statusStructure, "user and password need sasl = plain|scram-sha-256|scram-sha-512", "user"},
	{consumerBase + `sasl = plain and user = u and password = $HOME and ` + consumerTopic, statusWrongValue, "password = $HOME: only environment variables named LAKENODE_* can be used", "$HOME"},
	{consumerBase + `sasl = plain and user = u and password = $LAKENODE_ and ` + consumerTopic, statusWrongValue, "", "$LAKENODE_"},
	{consumerBase + `sasl = plain and user = u and password = $LAKENODE_A-B and ` + consumerTopic, statusWrongValue, "", "$LAKENODE_A-B"},
	{consumerBase + `sasl = $LAKENODE_SASL and user = u and password = p and ` + consumerTopic, statusWrongValue, "sasl takes no $NAME value (only tls_ca, tls_cert, tls_key, user, password do)", "$LAKENODE_SASL"},
	{`sql d tls = true "select * from t"`, statusStructure, "the TLS and SASL keys work with dest = kafka@HOST:PORT only", "tls"},
	{`sql d format = json:output and dest = kafka@h:1 and topic = t and sasl = plain and user = u "select 1"`, statusStructure, "sasl = plain needs user = NAME and password = SECRET", "sasl"},
}

func TestSecurityErrors(t *testing.T) {
	for _, c := range securityErrorCases {
		checkErr(t, c, nil)
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{`run kafka consumer where ip = h and password = s3cret and topic = (name = t)`, `run kafka consumer where ip = h and password = *** and topic = (name = t)`},
		{`password=s3cret`, `password=***`},
		{`PASSWORD = "two words" and user = u`, `PASSWORD = *** and user = u`},
		{`password = 'it''s' and x = 1`, `password = *** and x = 1`},
		{`password = two words and tls = true`, `password = *** and tls = true`},
		{`password = one and two words`, `password = ***`},
		{"<run kafka consumer where\n password = s3cret and\n topic = (name = t)>", "<run kafka consumer where\n password = *** and\n topic = (name = t)>"},
		{`topic = (password = s3cret) and y = 2`, `topic = (password = ***) and y = 2`},
		{`password = (a and b) and y = 2`, `password = *** and y = 2`},
		{`password = $LAKENODE_PW and user = u`, `password = $LAKENODE_PW and user = u`},
		{`password = $HOME`, `password = ***`},
		{`password = "unterminated s3cret and more`, `password = ***`},
		{`a = "x" and password =   s3cret`, `a = "x" and password =   ***`},
		{`run client (n1) sql d dest = kafka@h:1 and topic = t and password = p1 and sasl = plain "select 1"`, `run client (n1) sql d dest = kafka@h:1 and topic = t and password = *** and sasl = plain "select 1"`},
		{`schedule time = 1 minute and name = x task sql d password = a and user = b "select 1"`, `schedule time = 1 minute and name = x task sql d password = *** and user = b "select 1"`},
		{`password = a and password = b`, `password = *** and password = ***`},
		{`get processes`, `get processes`},
		{`password`, `password`},
		{`password =`, `password =`},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestSecretNeverShown: a parse error of a command with a password shows
// the line redacted, with the caret still under the offending word.
func TestSecretNeverShown(t *testing.T) {
	line := consumerBase + `sasl = plain and user = u and password = hunter2 and bogus = 1 and ` + consumerTopic
	_, err := Parse(line, nil)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a command error, got %v", err)
	}
	caret := ce.Caret()
	if strings.Contains(caret, "hunter2") || strings.Contains(ce.Error(), "hunter2") {
		t.Fatalf("the password is shown:\n%s\n%s", ce.Error(), caret)
	}
	lines := strings.Split(caret, "\n")
	if at := strings.Index(lines[1], "^"); !strings.HasPrefix(lines[0][at:], "bogus") {
		t.Errorf("the caret does not point at bogus:\n%s", caret)
	}
	s := parseConsumerSpec(t, consumerBase+`sasl = plain and user = u and password = hunter2 and `+consumerTopic, nil)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "security", s.Security)
	for _, shown := range []string{fmt.Sprint(s.Security), fmt.Sprintf("%+v %#v %s", s.Security, s.Security, s.Security), fmt.Sprintf("%+v", s), logged.String()} {
		if strings.Contains(shown, "hunter2") {
			t.Errorf("the password is shown: %s", shown)
		}
	}
	// A run client whose variables are replaced shows the command redacted.
	_, err = Parse(`run client (n1) sql d format = json:output and dest = kafka@h:1 and topic = !t and sasl = plain and user = u and password = hunter2 and bogus = 1 "select 1"`, map[string]string{"t": "out"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("run client error shows the password: %v", err)
	}
}

func TestSecurityNotices(t *testing.T) {
	if n := SecurityNotices(spec.Security{TLS: true, SkipVerify: true}); len(n) != 1 || !strings.Contains(n[0], "insecure") {
		t.Errorf("skip verify notices: %q", n)
	}
	if n := SecurityNotices(spec.Security{SASL: "plain", User: "u", Password: "p"}); len(n) != 1 || !strings.Contains(n[0], "clear") {
		t.Errorf("plain without tls notices: %q", n)
	}
	if n := SecurityNotices(spec.Security{TLS: true, CA: "ca.pem", SASL: "scram-sha-512", User: "u", Password: "p"}); len(n) != 0 {
		t.Errorf("secure settings have notices: %q", n)
	}
}

func TestHelpListsSecurityKeys(t *testing.T) {
	for _, topic := range []string{"run kafka consumer", "sql"} {
		h, err := Help(topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"tls", "sasl"} {
			if !strings.Contains(h, k) {
				t.Errorf("help %s does not list %s:\n%s", topic, k, h)
			}
		}
	}
	if _, err := Help("nothing where password = hunter2"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("help echoes the password: %v", err)
	}
}
