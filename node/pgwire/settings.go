package pgwire

import (
	"fmt"
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// serverVersion is the PostgreSQL version lakenode answers as: clients
// such as psql pick their catalog queries by it.
const serverVersion = "16.4"

// defaultSettings are the run-time settings a session starts with.
var defaultSettings = map[string]string{
	"server_version":                      serverVersion + " (lakenode)",
	"server_version_num":                  "160004",
	"server_encoding":                     "UTF8",
	"client_encoding":                     "UTF8",
	"datestyle":                           "ISO, MDY",
	"intervalstyle":                       "postgres",
	"timezone":                            "UTC",
	"integer_datetimes":                   "on",
	"standard_conforming_strings":         "on",
	"is_superuser":                        "off",
	"application_name":                    "",
	"default_transaction_read_only":       "on",
	"transaction_read_only":               "on",
	"extra_float_digits":                  "1",
	"search_path":                         "public",
	"statement_timeout":                   "0",
	"lock_timeout":                        "0",
	"idle_in_transaction_session_timeout": "0",
	"transaction_isolation":               "read committed",
	"max_identifier_length":               "63",
	"lakenode.scope":                      "node",
	"lakenode.now":                        "",
}

// reportedSettings are sent in ParameterStatus at start-up, as PostgreSQL
// does, with their PostgreSQL spelling.
var reportedSettings = []string{"server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "integer_datetimes", "standard_conforming_strings", "is_superuser", "application_name", "default_transaction_read_only"}

func (s *session) setting(name string) string { return s.settings[strings.ToLower(name)] }

// set changes a setting: those lakenode acts on are checked, the others a
// client sets are kept and shown back, as they change nothing here.
func (s *session) set(name, value string) error {
	name = strings.ToLower(name)
	value = unquoteSetting(value)
	switch name {
	case "timezone", "time zone":
		return s.setTimeZone(value)
	case "client_encoding", "names":
		if v := strings.ToUpper(strings.ReplaceAll(value, "-", "")); v != "UTF8" && v != "UNICODE" {
			return &pgError{Code: codeInvalidParam, Msg: fmt.Sprintf("client_encoding %q is not supported: lakenode speaks UTF8", value)}
		}
		s.settings["client_encoding"] = "UTF8"
	case "lakenode.scope":
		switch strings.ToLower(value) {
		case "cluster":
			s.cluster = true
		case "node", "local", "default":
			s.cluster, value = false, "node"
		default:
			return &pgError{Code: codeInvalidParam, Msg: fmt.Sprintf("invalid value for lakenode.scope: %q (node or cluster)", value)}
		}
		s.settings[name] = strings.ToLower(value)
	case "lakenode.now":
		// A fixed now() for the session (reproducible reports and tests);
		// '' or default gives the clock back.
		if value == "" || strings.EqualFold(value, "default") {
			s.now, s.settings[name] = time.Time{}, ""
			return nil
		}
		us, err := schema.ParseTimestamp(value)
		if err != nil {
			return &pgError{Code: codeInvalidParam, Msg: fmt.Sprintf("invalid value for lakenode.now: %q (a timestamp, e.g. '2026-11-25 12:00:00', or default)", value)}
		}
		s.now = time.UnixMicro(us).UTC()
		s.settings[name] = s.now.Format(time.RFC3339Nano)
	case "transaction_read_only", "default_transaction_read_only":
		if v := strings.ToLower(value); v != "on" && v != "true" && v != "1" {
			return &pgError{Code: codeReadOnly, Msg: "lakenode sessions are read-only"}
		}
	default:
		s.settings[name] = value
	}
	return nil
}

func (s *session) setTimeZone(tz string) error {
	if strings.EqualFold(tz, "local") || strings.EqualFold(tz, "default") {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return &pgError{Code: codeInvalidParam, Msg: fmt.Sprintf("invalid value for parameter \"TimeZone\": %q", tz)}
	}
	s.loc = loc
	s.settings["timezone"] = tz
	return nil
}

func unquoteSetting(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
		return strings.ReplaceAll(v[1:len(v)-1], v[:1]+v[:1], v[:1])
	}
	return v
}
