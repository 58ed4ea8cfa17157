package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Config of a Server. Zero values take the documented defaults.
type Config struct {
	Engine Engine
	// Token is the node's token, the password clients send. Empty: no
	// password, and only loopback clients are let in.
	Token []byte
	// TLS, when set, is offered to clients that ask (sslmode=require).
	TLS *tls.Config
	// MaxConns bounds the sessions open at once (default 100).
	MaxConns int
	// IdleTimeout closes a session that sends nothing for this long
	// (default 30 minutes).
	IdleTimeout time.Duration
	// MaxMessageBytes bounds one message from a client (default 1 MiB).
	MaxMessageBytes int
	// StartupTimeout bounds start-up and authentication (default 10 s).
	StartupTimeout time.Duration
	// WriteTimeout bounds each write to a client (default 1 minute): a
	// client that stops reading its result is cut off after it, and its
	// query stopped, instead of holding the session for ever.
	WriteTimeout time.Duration
	// Logger receives refusals and protocol errors (default: discard).
	Logger *slog.Logger

	// treatAsRemote makes loopback clients authenticate as remote ones
	// (SCRAM), for tests.
	treatAsRemote bool
}

// Defaults of Config.
const (
	DefaultMaxConns        = 100
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultMaxMessageBytes = 1 << 20
	DefaultStartupTimeout  = 10 * time.Second
	DefaultWriteTimeout    = time.Minute
)

// Server serves PostgreSQL sessions on listeners.
type Server struct {
	cfg  Config
	keys *scramKeys

	mu       sync.Mutex
	sessions map[uint32]*session // by process id, for cancel requests
	nextPID  uint32
	open     int // sessions past start-up
	conns    int // connections, start-up and cancel requests included
	wg       sync.WaitGroup
}

// connSlack is how many connections beyond MaxConns may be in start-up at
// once (a cancel request needs one while every session is open); past
// MaxConns + connSlack a connection is refused before it is read.
func (s *Server) connSlack() int { return max(4, s.cfg.MaxConns/10) }

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("pgwire: no engine")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, sessions: map[uint32]*session{}, nextPID: 1000}
	if len(cfg.Token) > 0 {
		k, err := newScramKeys(cfg.Token)
		if err != nil {
			return nil, err
		}
		s.keys = k
	}
	return s, nil
}

// Serve accepts connections on ln until ctx is done or ln fails; it closes
// ln and waits for the sessions to end.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	defer s.wg.Wait()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("pgwire: accepting: %w", err)
		}
		delay = 0
		if !s.admit() {
			s.wg.Go(func() { s.refuse(c) })
			continue
		}
		s.wg.Go(func() {
			defer s.leave()
			defer func() { _ = c.Close() }()
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			stopConn := context.AfterFunc(sctx, func() { _ = c.SetDeadline(time.Now()) })
			defer stopConn()
			s.serveConn(sctx, c)
		})
	}
}

// admit counts a new connection; false when there are too many already.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns >= s.cfg.MaxConns+s.connSlack() {
		return false
	}
	s.conns++
	return true
}

func (s *Server) leave() {
	s.mu.Lock()
	s.conns--
	s.mu.Unlock()
}

// refuse answers a connection over the cap with SQLSTATE 53300, unread,
// and closes it.
func (s *Server) refuse(c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	be := pgproto3.NewBackend(c, c)
	fatal(be, s.tooMany())
	s.cfg.Logger.Info("pgwire: connection refused: too many connections", "remote", c.RemoteAddr().String())
}

func (s *Server) tooMany() *pgError {
	return &pgError{Code: codeTooManyConns, Msg: fmt.Sprintf("sorry, too many clients already: this node serves at most %d sessions (--pg-max-conns)", s.cfg.MaxConns)}
}

// serveConn runs one connection: start-up, then the session.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(s.cfg.StartupTimeout))
	be := pgproto3.NewBackend(c, c)
	tlsOn := false
	var startup *pgproto3.StartupMessage
	for startup == nil {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			s.logf("start-up failed", c, err)
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if s.cfg.TLS == nil || tlsOn {
				if _, err := c.Write([]byte{'N'}); err != nil {
					return
				}
				continue
			}
			if _, err := c.Write([]byte{'S'}); err != nil {
				return
			}
			tc := tls.Server(c, s.cfg.TLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				s.logf("TLS handshake failed", c, err)
				return
			}
			c, tlsOn = tc, true
			be = pgproto3.NewBackend(c, c)
		case *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.CancelRequest:
			s.cancel(m.ProcessID, m.SecretKey)
			return
		case *pgproto3.StartupMessage:
			startup = m
		}
	}
	be.SetMaxBodyLen(s.cfg.MaxMessageBytes)
	sess, perr := s.open1(startup, c, be, tlsOn)
	if perr != nil {
		fatal(be, perr)
		s.logf("session refused", c, perr)
		return
	}
	defer s.close1(sess)
	if err := sess.authenticate(); err != nil {
		fatal(be, toPG(err, "", nil))
		s.logf("authentication failed", c, err)
		return
	}
	if err := sess.ready(); err != nil {
		return
	}
	sess.loop(ctx)
}

func fatal(be *pgproto3.Backend, e *pgError) {
	r := e.response()
	r.Severity, r.SeverityUnlocalized = "FATAL", "FATAL"
	be.Send(r)
	_ = be.Flush()
}

func (s *Server) logf(what string, c net.Conn, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	s.cfg.Logger.Info("pgwire: "+what, "remote", c.RemoteAddr().String(), "err", err)
}

// open1 registers a session for a start-up message, or refuses it.
func (s *Server) open1(m *pgproto3.StartupMessage, c net.Conn, be *pgproto3.Backend, tlsOn bool) (*session, *pgError) {
	db := m.Parameters["database"]
	if db == "" {
		return nil, &pgError{Code: codeInvalidCatalog, Msg: "no database: connect with the dbms as the database (psql -d DBMS, or dbname=DBMS)"}
	}
	secret := make([]byte, 4)
	if _, err := rand.Read(secret); err != nil {
		return nil, errorf(codeInternal, "no randomness for the cancel key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open >= s.cfg.MaxConns {
		return nil, s.tooMany()
	}
	s.open++
	s.nextPID++
	sess := newSession(s, c, be, m.Parameters, tlsOn)
	sess.pid, sess.secret = s.nextPID, secret
	s.sessions[sess.pid] = sess
	return sess, nil
}

func (s *Server) close1(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess.pid)
	s.open--
}

// cancel stops the query a session runs, when the key matches.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	sess := s.sessions[pid]
	s.mu.Unlock()
	if sess == nil || subtle.ConstantTimeCompare(sess.secret, secret) != 1 {
		return
	}
	sess.cancelQuery()
}

// Sessions is the number of sessions open now.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// isLoopback reports whether the connection comes from 127.0.0.0/8 or ::1.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.Network() == "unix"
	}
	return ta.IP.IsLoopback()
}
