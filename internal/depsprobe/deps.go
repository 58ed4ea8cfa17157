package depsprobe

import (
	_ "github.com/asynkron/protoactor-go/actor"
	_ "github.com/asynkron/protoactor-go/remote"
	_ "github.com/asynkron/protoactor-go/cluster"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/ergochat/readline"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/twmb/franz-go/pkg/kgo"
	_ "github.com/twmb/franz-go/pkg/kadm"
	_ "github.com/twmb/franz-go/pkg/kfake"
	_ "github.com/valyala/fastjson"
	_ "github.com/tidwall/gjson"
	_ "github.com/mattn/go-sqlite3"
	_ "golang.org/x/term"
	_ "google.golang.org/protobuf/proto"
	_ "vitess.io/vitess/go/vt/sqlparser"
)
