package command

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lakenode/lakenode/kafka/spec"
)

// securityKeys are the keys of a Kafka client's TLS and SASL settings, in
// `run kafka consumer where ...` and beside `dest = kafka@...` in sql.
var securityKeys = []string{"tls", "tls_ca", "tls_cert", "tls_key", "tls_skip_verify", "sasl", "user", "password"}

func isSecurityKey(k string) bool { return slices.Contains(securityKeys, k) }

// envKeys may take a `$LAKENODE_NAME` value, read on the node that runs the
// command.
var envKeys = []string{"tls_ca", "tls_cert", "tls_key", "user", "password"}

// securityState collects the security keys of one command.
type securityState struct {
	s        spec.Security
	seen     map[string]kv
	tlsFalse bool // tls = false was written
}

// add applies one security key.
func (st *securityState) add(k kv, line string) error {
	if st.seen == nil {
		st.seen = map[string]kv{}
	}
	st.seen[k.key] = k
	v := strings.TrimSpace(k.value)
	if strings.HasPrefix(v, "$") {
		if !slices.Contains(envKeys, k.key) {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("%s takes no $NAME value (only %s do)", k.key, strings.Join(envKeys, ", ")), Pos: k.valPos, Line: line}
		}
		if err := CheckEnvName(v); err != nil {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("%s = %s: %v", k.key, v, err), Pos: k.valPos, Line: line}
		}
	}
	switch k.key {
	case "tls", "tls_skip_verify":
		b, ok := parseBool(v)
		if !ok {
			return notAllowed(k, line)
		}
		if k.key == "tls" {
			st.s.TLS, st.tlsFalse = b, !b
		} else {
			st.s.SkipVerify = b
		}
	case "tls_ca", "tls_cert", "tls_key":
		if v == "" {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("%s needs a file name under the node's --secrets-dir", k.key), Pos: k.valPos, Line: line}
		}
		switch k.key {
		case "tls_ca":
			st.s.CA = v
		case "tls_cert":
			st.s.Cert = v
		default:
			st.s.Key = v
		}
	case "sasl":
		m := strings.ToLower(v)
		if !slices.Contains(spec.SASLMechanisms, m) {
			return &Error{Status: statusWrongValue, Detail: fmt.Sprintf("The value '%s' is not allowed for the key 'sasl' (%s)", v, strings.Join(spec.SASLMechanisms, ", ")), Pos: k.valPos, Line: line}
		}
		st.s.SASL = m
	case "user":
		st.s.User = v
	case "password":
		// The value is never repeated in an error.
		if v == "" {
			return &Error{Status: statusWrongValue, Detail: "password is empty", Pos: k.keyPos, Line: line}
		}
		st.s.Password = v
	}
	return nil
}

// finish checks the keys together and returns the settings: a tls_* key
// implies tls = true (and contradicts tls = false); tls_cert and tls_key go
// together; sasl needs user and password, and they need sasl.
func (st *securityState) finish(line string) (spec.Security, error) {
	s := st.s
	if st.seen == nil {
		return s, nil
	}
	pos := func(key string) int {
		if k, ok := st.seen[key]; ok {
			return k.keyPos
		}
		return -1
	}
	for _, key := range []string{"tls_ca", "tls_cert", "tls_key", "tls_skip_verify"} {
		if _, ok := st.seen[key]; !ok {
			continue
		}
		if st.tlsFalse {
			return s, errAt(line, pos(key), "%s needs TLS, but tls = false", key)
		}
		if key != "tls_skip_verify" || s.SkipVerify {
			s.TLS = true
		}
	}
	if (s.Cert == "") != (s.Key == "") {
		missing, given := "tls_key", "tls_cert"
		if s.Cert == "" {
			missing, given = "tls_cert", "tls_key"
		}
		return s, errAt(line, pos(given), "%s needs %s = FILE too (the client certificate and its key)", given, missing)
	}
	if s.SkipVerify && s.CA != "" {
		return s, errAt(line, pos("tls_skip_verify"), "tls_skip_verify = true and tls_ca = FILE contradict each other: the CA is not checked when verification is skipped")
	}
	switch {
	case s.SASL != "" && (s.User == "" || s.Password == ""):
		return s, errAt(line, pos("sasl"), "sasl = %s needs user = NAME and password = SECRET", s.SASL)
	case s.SASL == "" && (s.User != "" || s.Password != ""):
		p := pos("user")
		if p < 0 {
			p = pos("password")
		}
		return s, errAt(line, p, "user and password need sasl = %s", strings.Join(spec.SASLMechanisms, "|"))
	}
	return s, nil
}

// CheckEnvName checks a `$NAME` value: NAME must start with LAKENODE_ and
// hold only letters, digits and underscores.
func CheckEnvName(v string) error {
	name, ok := strings.CutPrefix(v, "$")
	if !ok {
		return fmt.Errorf("%q is not a $NAME", v)
	}
	if !strings.HasPrefix(name, spec.EnvPrefix) || len(name) == len(spec.EnvPrefix) {
		return fmt.Errorf("only environment variables named %s* can be used", spec.EnvPrefix)
	}
	for _, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return fmt.Errorf("an environment variable name holds letters, digits and _ only")
		}
	}
	return nil
}

// SecurityNotices are the warnings a command's settings deserve.
func SecurityNotices(s spec.Security) []string {
	var out []string
	if s.SkipVerify {
		out = append(out, "tls_skip_verify = true: the broker's certificate is not checked, so anyone on the path can pose as the broker (insecure; give tls_ca = FILE instead)")
	}
	if s.SASL == "plain" && !s.TLS {
		out = append(out, "sasl = plain without tls = true sends the password in clear text")
	}
	return out
}
