package main

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    config
		wantErr string
	}{
		{nil, config{port: 0, partitions: 4, logLevel: kfake.LogLevelWarn}, ""},
		{[]string{"-listen", "127.0.0.1:9092", "-data-dir", "d", "-partitions", "6", "-log-level", "debug", "-sync-writes"},
			config{port: 9092, dataDir: "d", partitions: 6, logLevel: kfake.LogLevelDebug, syncWrites: true}, ""},
		{[]string{"-no-auto-create"}, config{partitions: 4, logLevel: kfake.LogLevelWarn, noAuto: true}, ""},
		{[]string{"-listen", "0.0.0.0:9092"}, config{}, "127.0.0.1 only"},
		{[]string{"-listen", ":9092"}, config{}, "127.0.0.1 only"},
		{[]string{"-listen", "127.0.0.1:70000"}, config{}, "bad port"},
		{[]string{"-partitions", "-1"}, config{}, "at least 1"},
		{[]string{"-log-level", "trace"}, config{}, "want none"},
		{[]string{"-sync-writes"}, config{}, "needs -data-dir"},
		{[]string{"-listen", "127.0.0.1:0", "x"}, config{}, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseFlags: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseFlags = %+v, %v; want %+v", got, err, tc.want)
			}
			if n := len(got.options()); n < 4 {
				t.Fatalf("%d kfake options", n)
			}
			auto := got
			auto.noAuto = false
			if got.noAuto && len(auto.options()) != len(got.options())+1 {
				t.Fatal("-no-auto-create leaves AllowAutoTopicCreation in the options")
			}
		})
	}
}
