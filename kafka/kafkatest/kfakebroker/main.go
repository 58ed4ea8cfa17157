// Command kfakebroker runs franz-go's kfake Kafka-protocol broker as a
// process of its own, for lakenode's integration tests: killing a node under
// test must not kill its broker.
//
//	kfakebroker [-listen 127.0.0.1:0] [-data-dir DIR] [-partitions 4] [-log-level warn] [-sync-writes]
//	            [-tls-cert FILE -tls-key FILE] [-sasl-user NAME] [-no-auto-create]
//
// With -tls-cert and -tls-key it speaks TLS only; with -sasl-user it
// requires SASL, the user being a superuser for PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 with the password in $KFAKEBROKER_SASL_PASSWORD (never on
// the command line).
//
// It listens on 127.0.0.1 only (port 0 picks a free one), creates topics on
// first use with -partitions partitions (unless -no-auto-create: a broker
// with auto.create.topics.enable = false), and allows consumer-group sessions
// of up to 5 minutes. With -data-dir its records, offsets and groups are kept
// on disk, so a broker restarted on the same directory still has them, also
// after SIGKILL (writes reach the page cache before the produce is
// acknowledged; -sync-writes also fsyncs each batch). Once it accepts
// connections it prints one line, "listening on HOST:PORT", to stdout; logs
// go to stderr. SIGTERM or SIGINT stop it cleanly.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// config is the command line.
type config struct {
	port       int
	dataDir    string
	partitions int
	logLevel   kfake.LogLevel
	syncWrites bool
	tlsCert    string
	tlsKey     string
	saslUser   string
	saslPass   string
	noAuto     bool
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("kfakebroker", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on: 127.0.0.1:PORT, port 0 picks a free one")
	dataDir := fs.String("data-dir", "", "keep the broker's state in this `directory` (a restart keeps it); empty keeps it in memory")
	partitions := fs.Int("partitions", 4, "partitions of topics created on first use")
	level := fs.String("log-level", "warn", "log level on stderr: none, error, warn, info or debug")
	syncWrites := fs.Bool("sync-writes", false, "fsync every batch written to -data-dir")
	tlsCert := fs.String("tls-cert", "", "PEM `file` of the server certificate: the listener speaks TLS only")
	tlsKey := fs.String("tls-key", "", "PEM `file` of the server key (with -tls-cert)")
	saslUser := fs.String("sasl-user", "", "require SASL, with this superuser `name`; its password is $KFAKEBROKER_SASL_PASSWORD")
	noAuto := fs.Bool("no-auto-create", false, "refuse to create topics on first use, as a broker with auto.create.topics.enable = false")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	host, portS, err := net.SplitHostPort(*listen)
	if err != nil {
		return config{}, fmt.Errorf("-listen %q: %w", *listen, err)
	}
	if host != "127.0.0.1" {
		return config{}, fmt.Errorf("-listen %q: the broker listens on 127.0.0.1 only", *listen)
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port < 0 || port > 65535 {
		return config{}, fmt.Errorf("-listen %q: bad port", *listen)
	}
	if *partitions < 1 {
		return config{}, fmt.Errorf("-partitions %d: want at least 1", *partitions)
	}
	lv, err := parseLevel(*level)
	if err != nil {
		return config{}, err
	}
	if *syncWrites && *dataDir == "" {
		return config{}, errors.New("-sync-writes needs -data-dir")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return config{}, errors.New("-tls-cert and -tls-key go together")
	}
	cfg := config{port: port, dataDir: *dataDir, partitions: *partitions, logLevel: lv, syncWrites: *syncWrites, tlsCert: *tlsCert, tlsKey: *tlsKey, noAuto: *noAuto}
	if *saslUser != "" {
		cfg.saslUser, cfg.saslPass = *saslUser, os.Getenv("KFAKEBROKER_SASL_PASSWORD")
		if cfg.saslPass == "" {
			return config{}, errors.New("-sasl-user needs KFAKEBROKER_SASL_PASSWORD in the environment")
		}
	}
	return cfg, nil
}

func parseLevel(s string) (kfake.LogLevel, error) {
	switch s {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return 0, fmt.Errorf("-log-level %q: want none, error, warn, info or debug", s)
}

// options turns the command line into kfake options.
func (c config) options() []kfake.Opt {
	opts := []kfake.Opt{
		kfake.Ports(c.port),
		kfake.DefaultNumPartitions(c.partitions),
		kfake.GroupMaxSessionTimeout(5 * time.Minute),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, c.logLevel)),
	}
	if !c.noAuto {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if c.saslUser != "" {
		opts = append(opts, kfake.EnableSASL(),
			kfake.Superuser("PLAIN", c.saslUser, c.saslPass),
			kfake.Superuser("SCRAM-SHA-256", c.saslUser, c.saslPass),
			kfake.Superuser("SCRAM-SHA-512", c.saslUser, c.saslPass))
	}
	if c.dataDir != "" {
		opts = append(opts, kfake.DataDir(c.dataDir))
		if c.syncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	return opts
}

func run(cfg config) error {
	// Subscribe before announcing readiness so that a SIGTERM sent right
	// after the "listening on" line is not lost.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	opts := cfg.options()
	if cfg.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		opts = append(opts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("starting the broker: %w", err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return errors.New("the broker has no listener")
	}
	fmt.Println("listening on", addrs[0])
	<-sig
	c.Close()
	return nil
}
