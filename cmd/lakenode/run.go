package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/lakenode/lakenode/node"
	"github.com/lakenode/lakenode/sqlshell"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, "; ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	dataDir, name, httpAddr, listen, embedded string
	pgAddr                                    string
	pgSet                                     bool
	pgMaxConns                                int
	pgIdleTimeout                             time.Duration
	filesDir, secretsDir, backupDir           string
	files                                     stringList
	cmds                                      stringList
	serve, showVersion                        bool
	logLevel, logFile                         string
	httpSet, listenSet                        bool
	connect                                   string
	seeds                                     string
	sessionTimeout                            time.Duration
	auth                                      authOptions
	maxResultRows                             int64
	minFree                                   uint64
	cacheSize                                 uint64
	sealAfter                                 time.Duration
}

func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{minFree: node.DefaultMinFree, cacheSize: node.DefaultCacheSize, sealAfter: node.DefaultSealAfter}
	fs := flag.NewFlagSet("lakenode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataDir, "data-dir", node.DefaultDataDir, "directory of the node's tables")
	fs.StringVar(&o.filesDir, "files-dir", "", "the only directory commands write files to (dest = file); default DATA_DIR/files")
	fs.StringVar(&o.backupDir, "backup-dir", "", "where backup where dir = NAME writes its copies; default DATA_DIR-backups, beside the data dir")
	fs.StringVar(&o.secretsDir, "secrets-dir", "", "the only directory commands read key material from (tls_ca = FILE, ...); default DATA_DIR/secrets")
	fs.StringVar(&o.name, "name", "", "node name, unique in a cluster (default <hostname>-<listen port>)")
	fs.StringVar(&o.httpAddr, "http", node.DefaultHTTPAddr, "EdgeLake REST command port, /metrics and /healthz")
	fs.StringVar(&o.listen, "listen", node.DefaultListenAddr, "the node's remote actor endpoint")
	fs.StringVar(&o.pgAddr, "pg", node.DefaultPGAddr, "the PostgreSQL wire endpoint (psql, Grafana, drivers): the database is the dbms")
	fs.IntVar(&o.pgMaxConns, "pg-max-conns", 100, "the most PostgreSQL sessions open at once")
	fs.DurationVar(&o.pgIdleTimeout, "pg-idle-timeout", 30*time.Minute, "close a PostgreSQL session that sends nothing for this long")
	fs.StringVar(&o.embedded, "kafka-embedded", "", "run a Kafka-protocol broker in the process on HOST:PORT (127.0.0.1 only)")
	fs.Var(&o.files, "f", "run the commands of a script `FILE` (repeatable)")
	fs.Var(&o.cmds, "c", "run a `COMMAND` (repeatable; after the -f scripts)")
	fs.BoolVar(&o.serve, "serve", false, "keep running after the start-up commands until SIGINT/SIGTERM")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFile, "log-file", "", "write logs to this file instead of stderr")
	fs.StringVar(&o.seeds, "seeds", "", "other nodes' --listen addresses, `HOST:PORT,...`: the node heartbeats them and lists them in get nodes")
	fs.DurationVar(&o.sessionTimeout, "kafka-session-timeout", 45*time.Second, "how long a consumer group waits for a silent node before moving its partitions to the others")
	addAuthFlags(fs, &o.auth)
	fs.Int64Var(&o.maxResultRows, "max-result-rows", node.DefaultMaxResultRows, "the most rows of a query reply built whole (format = table, json, json:list); streamed json:output replies and exports are not limited")
	fs.Var(sizeFlag{&o.cacheSize}, "cache-size", "the store's block cache (`SIZE`), held outside the Go heap; its two 64 MiB memtables count against it, so blocks get what is left (none at 128MiB or less)")
	fs.Var(sizeFlag{&o.minFree}, "min-free", "free space to keep on the data dir's filesystem (`SIZE`: 512MiB, 1GiB, ...; 0 turns the check off): below it ingest pauses until space returns")
	fs.DurationVar(&o.sealAfter, "seal-after", node.DefaultSealAfter, "seal rows into column blocks this long after their commit (0 never seals; a table with fewer than 4096 such rows waits ten times as long): queries read blocks 10-250x faster than rows, for some 5-25% more CPU per ingested message; sealing slows to a twentieth of a core while ingest is behind")
	fs.StringVar(&o.connect, "connect", "", "run the shell, -c and -f against the running node whose --listen address is `HOST:PORT`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  lakenode [flags]          run a node (a shell at a terminal, else commands from stdin)\n  lakenode demo [flags]     the demo: embedded broker, the seed's producer and consumer, the shell\n  lakenode cluster up --nodes N [--base-port P] [--data-dir DIR] [--kafka-embedded HOST:PORT]\n                            N node processes that know each other, and the shell on node 0\n  lakenode check [--data-dir DIR]\n                            check a stopped node's data dir (read only): exit 0 sound, 1 damaged\n  lakenode --version\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if help, err := parse(fs, args, stdout, stderr); help {
		return nil, flag.ErrHelp
	} else if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (commands go in -c \"...\")", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "http":
			o.httpSet = true
		case "listen":
			o.listenSet = true
		case "pg":
			o.pgSet = true
		}
	})
	return o, nil
}

func newLogger(o *options, stderr io.Writer) (*slog.Logger, func(), error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", o.logLevel)
	}
	w, closeFn := stderr, func() {}
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		w, closeFn = f, func() { _ = f.Close() }
	}
	// Identical lines within a minute are logged once, then with a count.
	dh := node.NewDedupHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}), time.Minute, nil)
	return slog.New(dh), func() { dh.Flush(); closeFn() }, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "cluster" {
		return runCluster(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "check" {
		return runCheck(args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "lakenode:", err)
		return 2
	}
	if o.showVersion {
		fmt.Fprintln(stdout, "lakenode", version)
		return 0
	}
	logger, closeLog, err := newLogger(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 2
	}
	defer closeLog()

	if o.connect != "" {
		return runConnected(o, stdin, stdout, stderr, logger)
	}
	cfg, err := nodeConfig(o, logger)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 2
	}
	return runNode(cfg, o, stdin, stdout, stderr)
}

// nodeConfig turns the flags into the node's configuration; an error is a
// bad flag.
func nodeConfig(o *options, logger *slog.Logger) (node.Config, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.Name, cfg.KafkaEmbedded, cfg.Logger, cfg.Version = o.dataDir, o.name, o.embedded, logger, version
	cfg.FilesDir, cfg.SecretsDir = o.filesDir, o.secretsDir
	cfg.BackupDir = o.backupDir
	if o.sessionTimeout < 6*time.Second || o.sessionTimeout > 30*time.Minute {
		return cfg, fmt.Errorf("--kafka-session-timeout %v: must be between 6s and 30m (the brokers' default group limits)", o.sessionTimeout)
	}
	cfg.KafkaSessionTimeout = o.sessionTimeout
	var err error
	if cfg.Auth, err = o.auth.settings(); err != nil {
		return cfg, err
	}
	cfg.MetricsOpen = o.auth.metricsOpen
	if o.maxResultRows < 1 {
		return cfg, fmt.Errorf("--max-result-rows %d: must be at least 1", o.maxResultRows)
	}
	cfg.MaxResultRows = o.maxResultRows
	cfg.MinFree = o.minFree
	if o.cacheSize < 1<<20 || o.cacheSize > 1<<40 {
		return cfg, fmt.Errorf("--cache-size %s: must be between 1MiB and 1TiB", sizeText(o.cacheSize))
	}
	cfg.CacheSize = int64(o.cacheSize)
	switch {
	case o.sealAfter < 0:
		return cfg, fmt.Errorf("--seal-after %v: must be 0 (never) or positive", o.sealAfter)
	case o.sealAfter == 0:
		cfg.SealAfter = -1
	default:
		cfg.SealAfter = o.sealAfter
	}
	if o.serve || o.httpSet {
		cfg.HTTPAddr = o.httpAddr
	}
	if o.serve || o.listenSet {
		cfg.ListenAddr = o.listen
	}
	if o.serve || o.pgSet {
		cfg.PGAddr = o.pgAddr
	}
	if o.pgMaxConns < 1 {
		return cfg, fmt.Errorf("--pg-max-conns %d: must be at least 1", o.pgMaxConns)
	}
	if o.pgIdleTimeout < time.Second {
		return cfg, fmt.Errorf("--pg-idle-timeout %v: must be at least 1s", o.pgIdleTimeout)
	}
	cfg.PGMaxConns, cfg.PGIdleTimeout = o.pgMaxConns, o.pgIdleTimeout
	if cfg.Name == "" {
		cfg.Name = node.DefaultName(o.listen)
	}
	if o.seeds != "" {
		if cfg.ListenAddr == "" {
			return cfg, errors.New("--seeds needs a remote endpoint: give --listen or --serve")
		}
		for _, sd := range strings.Split(o.seeds, ",") {
			sd = strings.TrimSpace(sd)
			if _, _, err := net.SplitHostPort(sd); err != nil {
				return cfg, fmt.Errorf("--seeds %q: %v", sd, err)
			}
			cfg.Seeds = append(cfg.Seeds, sd)
		}
	}
	return cfg, nil
}

// runNode runs a node in this process: its start-up commands, the shell or
// stdin, then (--serve) until a signal; then a graceful stop.
func runNode(cfg node.Config, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := len(o.files) == 0 && len(o.cmds) == 0 && !o.serve && isTerminal(stdin)
	events := sqlshell.NewEvents(stderr)
	cfg.Events = events.Print

	// In the shell, Ctrl-C cancels the running command (the shell handles
	// it); elsewhere SIGINT stops the node gracefully, as SIGTERM does.
	sigs := []os.Signal{syscall.SIGTERM}
	if !interactive {
		sigs = append(sigs, os.Interrupt)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()

	if err := node.WaitForSpace(ctx, cfg, func(line string) { fmt.Fprintln(stderr, "lakenode:", line) }); err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		if ctx.Err() != nil {
			return 0 // a stop asked for while waiting: nothing was opened
		}
		return 1
	}
	n, err := node.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 1
	}
	status := 0
	if err := n.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		status = 1
	} else {
		s := session(o, n.ShellConn(interactive || isTerminal(stdout)), n.Name(), interactive, stdin, stdout, stderr)
		s.Events = events
		status = runSession(ctx, s, stderr)
		if o.serve {
			fmt.Fprintf(stderr, "lakenode %s serving (REST %s%s); SIGINT or SIGTERM stops it\n", n.Name(), n.HTTPAddr(), pgNote(n))
			<-ctx.Done()
		}
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := n.Stop(stopCtx); err != nil {
		fmt.Fprintln(stderr, "lakenode: stopping:", err)
		status = 1
	}
	return status
}

// session is what the flags ask to run against a node: the -f scripts,
// the -c commands, else the shell or stdin.
func session(o *options, conn sqlshell.Conn, prompt string, interactive bool, stdin io.Reader, stdout, stderr io.Writer) *sqlshell.Session {
	// The progress line counts the rows of an in-process node's scans; a
	// node reached with --connect does not report them.
	_, local := conn.(node.ShellConn)
	return &sqlshell.Session{
		Config: sqlshell.Config{Conn: conn, Prompt: prompt, Stdin: stdin, Stdout: stdout, Stderr: stderr,
			Progress: local && interactive && isTerminal(stderr)},
		Files:       o.files,
		Commands:    o.cmds,
		Interactive: interactive,
		Serve:       o.serve,
	}
}

// runSession runs s and returns the exit status: 1 when a command failed
// or the shell could not run.
func runSession(ctx context.Context, s *sqlshell.Session, stderr io.Writer) int {
	ok, err := s.Run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 1
	}
	return exitCode(ok)
}

func exitCode(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// runConnected runs the shell, -f and -c against a running node over remote
// actor messages: the same commands, output and exit codes as local.
func runConnected(o *options, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) int {
	interactive := len(o.files) == 0 && len(o.cmds) == 0 && isTerminal(stdin)
	sigs := []os.Signal{syscall.SIGTERM}
	if !interactive {
		sigs = append(sigs, os.Interrupt)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()
	// The remote endpoint logs every connection hiccup at error level;
	// the client reports what matters itself.
	remoteLog := slog.New(slog.DiscardHandler)
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		remoteLog = logger
	}
	sec, err := o.auth.settings()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 2
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cl, err := node.Connect(dctx, o.connect, isTerminal(stdout), remoteLog, sec)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "lakenode:", err)
		return 1
	}
	defer cl.Close()
	return runSession(ctx, session(o, cl, o.connect, interactive, stdin, stdout, stderr), stderr)
}

func isTerminal(f any) bool {
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		return term.IsTerminal(int(fd.Fd()))
	}
	return false
}

// pgNote names the PostgreSQL endpoint in the serving line, when open.
func pgNote(n *node.Node) string {
	if a := n.PGAddr(); a != "" {
		return ", PostgreSQL " + a
	}
	return ""
}
