// Package node is lakenode's composition root: it opens the store, starts
// the actor system, the embedded broker and the REST port, runs commands and
// stops everything in order.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/lakenode/lakenode/actors"
	"github.com/lakenode/lakenode/cluster"
	"github.com/lakenode/lakenode/kafka"
	"github.com/lakenode/lakenode/node/auth"
	"github.com/lakenode/lakenode/node/command"
	"github.com/lakenode/lakenode/node/confine"
	"github.com/lakenode/lakenode/node/pgwire"
	"github.com/lakenode/lakenode/tables"
)

// Config configures a node. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	// DataDir holds the node's Pebble DB. Default ./lakenode-data.
	DataDir string
	// FilesDir is the only directory that commands write files to
	// (`dest = file and file = NAME`); names are taken relative to it and
	// may not leave it. Default DataDir/files, made on first use.
	FilesDir string
	// SecretsDir is the only directory that commands read key material
	// from (`tls_ca = FILE`, ...); no command writes it. Default
	// DataDir/secrets.
	SecretsDir string
	// BackupDir is where `backup where dir = NAME` writes its copies; NAME
	// may not leave it. Default: the data dir's path with "-backups"
	// appended (beside it, never inside it).
	BackupDir string
	// Name is unique in a cluster. Default <hostname>-<listen port>.
	Name string
	// HTTPAddr is EdgeLake's REST command port plus /metrics and /healthz;
	// "" serves none. Default 127.0.0.1:32049 (when serving).
	HTTPAddr string
	// ListenAddr is the node's remote actor endpoint; "" opens none.
	// Default 127.0.0.1:32048 (when serving).
	ListenAddr string
	// PGAddr is the PostgreSQL wire endpoint; "" opens none. Default
	// 127.0.0.1:32050 (when serving).
	PGAddr string
	// PGMaxConns bounds its sessions (0: pgwire.DefaultMaxConns, 100);
	// PGIdleTimeout closes a silent one (0: pgwire.DefaultIdleTimeout).
	PGMaxConns    int
	PGIdleTimeout time.Duration
	// KafkaEmbedded, when set, runs a Kafka-protocol broker in the process
	// on this address (127.0.0.1 only).
	KafkaEmbedded string
	// EmbeddedRetentionBytes bounds each partition of the embedded broker
	// (0: unbounded).
	EmbeddedRetentionBytes int64
	// Logger receives the node's logs. Default: discard.
	Logger *slog.Logger
	// Events receives asynchronous lines (a broker going away, a topic
	// stopped by its error policy) for the shell. May be nil.
	Events func(line string)
	// Version is printed by `get version`.
	Version string
	// Seeds are other nodes' --listen addresses; the node heartbeats them
	// and lists the live ones in `get nodes`.
	Seeds []string
	// KafkaSessionTimeout is the consumers' group session timeout: how long
	// the group waits for a silent node before giving its partitions to the
	// others (a node restarted within it gets them back). Default 45 s.
	KafkaSessionTimeout time.Duration
	// Auth authenticates the REST port and the remote endpoint: a token,
	// mutual TLS, both or neither (only on loopback addresses). Default none.
	Auth auth.Settings
	// MetricsOpen serves /metrics without the token. Default false.
	MetricsOpen bool
	// MaxResultRows bounds a query reply that is built whole (format =
	// table, json, json:list, and any reply to --connect or a file): a
	// longer one fails saying how to raise it. Exports to Kafka and
	// streamed json:output replies are not bounded. 0: the default,
	// 1,000,000.
	MaxResultRows int64
	// MinFree is the free space (bytes) the data dir's filesystem must
	// keep: below it ingest pauses (queries go on) and resumes by itself
	// when space returns, and a node started below it waits before opening
	// the store. 0: not checked. DefaultConfig sets DefaultMinFree.
	MinFree uint64
	// CacheSize is the store's block cache (bytes), held outside the Go
	// heap; its two 64 MiB memtables count against it and blocks get the
	// rest, filled as queries read. 0: the default, DefaultCacheSize.
	CacheSize int64
	// SealAfter is how long after their commit rows are sealed into
	// column blocks (checked every quarter of it; a table with fewer than
	// tables.MinSealRows such rows waits until they are ten times as old).
	// 0: the default, DefaultSealAfter; negative: never.
	SealAfter time.Duration

	// stopTrace, set by tests, is told each step of Stop in order.
	stopTrace func(step string)
	// hooks, set by tests, inject faults into the actor tree.
	hooks *actors.TestHooks
}

// Default addresses.
const (
	DefaultHTTPAddr   = "127.0.0.1:32049"
	DefaultListenAddr = "127.0.0.1:32048"
	DefaultPGAddr     = "127.0.0.1:32050"
	DefaultDataDir    = "./lakenode-data"
	// MaxRESTHeaderBytes bounds a REST request's headers, the command
	// included: a larger request is refused with 431 before it is read.
	MaxRESTHeaderBytes = 256 << 10
	// DefaultMaxResultRows is Config.MaxResultRows's default.
	DefaultMaxResultRows = 1_000_000
	// DefaultSealAfter is Config.SealAfter's default: a minute. The soak
	// (150,000 msgs/s on two cores) holds p99 and RSS flat with it
	// (README, "Sealed column blocks").
	DefaultSealAfter = 60 * time.Second
	// DefaultMinFree is Config.MinFree's default: 1 GiB.
	DefaultMinFree = 1 << 30
	// DefaultCacheSize is Config.CacheSize's default: 256 MiB.
	DefaultCacheSize = 256 << 20
)

// DefaultConfig returns the documented defaults, without listeners (the
// command line adds them for --serve).
func DefaultConfig() Config {
	return Config{DataDir: DefaultDataDir, Version: "dev", MinFree: DefaultMinFree}
}

// cacheSize is Config.CacheSize with its default.
func cacheSize(n int64) int64 {
	if n <= 0 {
		return DefaultCacheSize
	}
	return n
}

// DefaultName is <hostname>-<port of listen>.
func DefaultName(listen string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "lakenode"
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		port = "32048"
	}
	return host + "-" + port
}

// Node is one running lakenode node.
type Node struct {
	cfg    Config
	log    *slog.Logger
	store  *tables.Store
	sys    *actor.ActorSystem
	remote *remote.Remote
	// The actor tree, what runs in it, and the node's files.
	catalog *actors.Catalog
	tree    *actors.Tree // the node's supervised actor tree
	broker  *kafka.EmbeddedBroker
	files   confine.Dir // where commands write files
	secrets confine.Dir // where commands read key material
	backups confine.Dir // where backup writes its copies
	http    *http.Server
	httpLn  net.Listener
	pgLn    net.Listener
	pg      *pgwire.Server
	pgDone  chan struct{} // closed when the PostgreSQL endpoint has stopped
	started time.Time
	metrics *metrics

	// remoteRuns are the requests remote askers may cancel.
	remoteRuns remoteRuns
	// commands is the command actor, queries the queries supervisor; down
	// is closed when the actor system stops.
	commands, queries *actor.PID
	down              chan struct{}
	// members is the cluster membership and table directory, set when the
	// remote endpoint starts.
	members atomic.Pointer[cluster.Members]

	errLog *errorLog // locks itself

	// The background loops, set by Start and ended by Stop; stopped is set
	// by the first Stop.
	bgCancel context.CancelFunc
	bgDone   chan struct{}
	stopped  atomic.Bool
	// sealYields counts the times a seal pass, after a block or while it
	// paused, found ingest behind and yielded to it (sealShareNow).
	sealYields atomic.Int64

	// One lock per piece of state. mu: the consumers.
	mu        sync.Mutex
	consumers []*actors.ConsumerHandle
	ranTopics map[string]actors.ConsumerConfig // last consumer run of each topic, for reset offsets
	nextSub   int

	varsMu sync.Mutex
	vars   map[string]string // the node dictionary

	dbmsMu sync.Mutex
	dbms   map[string]string // connected dbms -> declared type

	exportsMu  sync.Mutex
	nextExport int
	exports    map[int]string // running exports, for get processes

	thresholdsMu sync.Mutex
	thresholds   actors.Thresholds

	schedulersMu sync.Mutex
	schedulers   map[int]*scheduler
}

// New opens the data dir and starts the actor system and, if configured,
// the embedded broker. Listeners start in Start.
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName(cfg.ListenAddr)
	}
	if err := cfg.checkAuth(); err != nil {
		return nil, err
	}
	if cfg.MaxResultRows <= 0 {
		cfg.MaxResultRows = DefaultMaxResultRows
	}
	files, secrets, err := fileDirs(cfg)
	if err != nil {
		return nil, err
	}
	backups, err := backupDir(cfg, files, secrets)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, files: files, secrets: secrets, backups: backups, log: cfg.Logger, vars: map[string]string{}, dbms: map[string]string{}, exports: map[int]string{}, errLog: newErrorLog(200), started: time.Now()}
	store, err := tables.Open(cfg.DataDir, tables.WithLogger(cfg.Logger), tables.WithNodeName(cfg.Name), tables.WithMinFree(cfg.MinFree), tables.WithCacheSize(cacheSize(cfg.CacheSize)), tables.WithSealShareFunc(n.sealShareNow))
	var damaged *tables.DamageError
	if errors.As(err, &damaged) {
		return nil, err // it names the data dir already
	} else if err != nil {
		return nil, fmt.Errorf("opening data dir %s: %w", cfg.DataDir, err)
	}
	n.store = store
	n.watchSpace()
	n.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(actorLogHandler{cfg.Logger.Handler()}).With("lib", "actor")
	}))
	tree, err := actors.SpawnTree(n.sys, actors.TreeConfig{Store: store, Thresholds: n.currentThresholds, Events: n.event, StopTrace: cfg.stopTrace, Hooks: cfg.hooks})
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	n.tree, n.catalog = tree, tree.Catalog
	if err := n.startActors(); err != nil {
		_ = store.Close()
		return nil, err
	}
	n.metrics = newMetrics(n)
	n.registerRunMetrics()
	if cfg.KafkaEmbedded != "" {
		b, err := kafka.StartEmbedded(cfg.KafkaEmbedded, cfg.EmbeddedRetentionBytes)
		if err != nil {
			_ = store.Close()
			return nil, err
		}
		n.broker = b
	}
	return n, nil
}

// fileDirs resolves the files and secrets directories: defaults under the
// data dir, never the data dir itself or one that holds it, and not
// overlapping each other.
func fileDirs(cfg Config) (files, secrets confine.Dir, err error) {
	files = confine.Dir{Path: cfg.FilesDir, Flag: "--files-dir", Create: true}
	if files.Path == "" {
		files.Path = filepath.Join(cfg.DataDir, "files")
	}
	secrets = confine.Dir{Path: cfg.SecretsDir, Flag: "--secrets-dir"}
	if secrets.Path == "" {
		secrets.Path = filepath.Join(cfg.DataDir, "secrets")
	}
	for _, d := range []confine.Dir{files, secrets} {
		in, err := confine.Within(cfg.DataDir, d.Path)
		if err != nil {
			return files, secrets, err
		}
		if in {
			return files, secrets, fmt.Errorf("%s %s holds the data dir %s: give it a directory of its own", d.Flag, d.Path, cfg.DataDir)
		}
	}
	if err := confine.Overlap(files, secrets); err != nil {
		return files, secrets, err
	}
	return files, secrets, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Store is the node's tables, for tools and tests that load rows directly.
func (n *Node) Store() *tables.Store { return n.store }

// EmbeddedBroker returns the embedded broker's address, or "".
func (n *Node) EmbeddedBroker() string {
	if n.broker == nil {
		return ""
	}
	return n.broker.Addr()
}

// HTTPAddr is the REST port's bound address, or "".
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// Start opens the listeners that are configured and starts the retention
// loop.
func (n *Node) Start(ctx context.Context) error {
	bg, cancel := context.WithCancel(context.Background())
	expired := make(chan struct{})
	n.bgCancel, n.bgDone = cancel, expired
	go func() {
		defer close(expired)
		n.expireLoop(bg, 30*time.Second)
	}()
	n.startSealing(bg)
	if n.cfg.ListenAddr != "" {
		host, portS, err := net.SplitHostPort(n.cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", n.cfg.ListenAddr, err)
		}
		port, err := strconv.Atoi(portS)
		if err != nil {
			return fmt.Errorf("--listen %q: bad port", n.cfg.ListenAddr)
		}
		// protoactor's remote panics when the port is taken; check first
		// for a clear error.
		probe, err := net.Listen("tcp", n.cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("--listen %s: %w", n.cfg.ListenAddr, err)
		}
		if port == 0 {
			port = probe.Addr().(*net.TCPAddr).Port
			n.cfg.ListenAddr = net.JoinHostPort(host, strconv.Itoa(port))
		}
		_ = probe.Close()
		ropts, err := n.remoteOptions()
		if err != nil {
			return err
		}
		n.remote = remote.NewRemote(n.sys, remote.Configure(host, port, ropts...))
		n.remote.Start()
		n.watchAskers()
		n.startMembers(bg)
	}
	if err := n.startPG(bg); err != nil {
		return err
	}
	if n.cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("--http %s: %w", n.cfg.HTTPAddr, err)
		}
		n.httpLn = ln
		n.http = &http.Server{Handler: n.guardHTTP(n.httpHandler()), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: MaxRESTHeaderBytes}
		if err := n.serveTLS(); err != nil {
			_ = ln.Close()
			return err
		}
		go func() {
			if err := n.serveHTTP(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("REST port stopped", "err", err)
			}
		}()
	}
	return nil
}

// Stop stops consumers (flushing their batches and storing offsets, without
// leaving their groups, so a restart gets the same partitions back), commits
// buffered rows and closes the store.
func (n *Node) Stop(ctx context.Context) error {
	if !n.stopped.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if n.http != nil {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = n.http.Shutdown(c)
		cancel()
	}
	if n.bgCancel != nil {
		n.bgCancel()
		<-n.bgDone
	}
	if n.pgDone != nil {
		<-n.pgDone
	}
	n.exitScheduler(0)
	n.stopQueries()
	if err := n.stopConsumers(ctx, false); err != nil {
		errs = append(errs, err)
	}
	if err := n.tree.Stop(ctx); err != nil && !onlyDiskFull(err) {
		errs = append(errs, err)
	} else if err != nil {
		n.log.Warn("stopping on a full disk: rows not committed are consumed again after a restart", "err", err)
	}
	if n.remote != nil {
		n.members.Load().Leave(n.sys)
		// Not graceful: a graceful stop waits (up to 10 s) for the peers to
		// close their streams to this node. Every reply is sent already.
		n.remote.Shutdown(false)
	}
	n.sys.Shutdown()
	close(n.down)
	if n.broker != nil {
		n.broker.Close()
	}
	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the store: %w", err))
	}
	if n.cfg.stopTrace != nil {
		n.cfg.stopTrace("store closed")
	}
	return errors.Join(errs...)
}

func (n *Node) currentThresholds() actors.Thresholds {
	n.thresholdsMu.Lock()
	defer n.thresholdsMu.Unlock()
	return n.thresholds
}

// event records an asynchronous line in the error log and hands it to the
// shell.
func (n *Node) event(kind, text string) {
	text = command.Redact(text) // a task's error may quote its command
	n.errLog.add(kind, text)
	n.log.Info(text, "kind", kind)
	if n.cfg.Events != nil {
		n.cfg.Events(text)
	}
}

func (n *Node) stopConsumers(ctx context.Context, leave bool) error {
	n.mu.Lock()
	cs := n.consumers
	n.consumers = nil
	n.mu.Unlock()
	var errs []error
	for _, c := range cs {
		res, err := n.sys.Root.RequestFuture(c.PID, &actors.StopConsumer{Leave: leave}, 60*time.Second).Result()
		if errors.Is(err, actor.ErrDeadLetter) {
			continue // stopped by its supervisor after repeated failures
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stopping consumer %d: %w", c.Config.ID, err))
			continue
		}
		if st, ok := res.(*actors.ConsumerStopped); ok && st.Err != nil {
			errs = append(errs, fmt.Errorf("stopping consumer %d: %w", c.Config.ID, st.Err))
		}
	}
	return errors.Join(errs...)
}

// errorLog keeps the latest errors of every kind for `get error log`.
type errorLog struct {
	mu      sync.Mutex
	max     int
	entries []errorEntry
}

type errorEntry struct {
	At   time.Time
	Kind string
	Text string
}

func newErrorLog(max int) *errorLog { return &errorLog{max: max} }

// maxErrorText is the most bytes of one error text the log keeps.
const maxErrorText = 1 << 10

func (l *errorLog) add(kind, text string) {
	text = clipText(text, maxErrorText)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, errorEntry{At: time.Now(), Kind: kind, Text: text})
	if len(l.entries) > l.max {
		l.entries = l.entries[len(l.entries)-l.max:]
	}
}

func (l *errorLog) list() []errorEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]errorEntry(nil), l.entries...)
}

// clipText keeps the first max bytes of s (whole UTF-8 characters) and
// says how many bytes were cut.
func clipText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes cut)", s[:cut], len(s)-cut)
}
