package pgwire

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// session is one client connection after start-up. Its goroutine owns
// everything here but cancel, which a cancel request's goroutine calls.
type session struct {
	srv    *Server
	conn   net.Conn
	be     *pgproto3.Backend
	params map[string]string // start-up parameters
	tlsOn  bool
	pid    uint32
	secret []byte
	// writeErr is the first failed write: the stream is broken and the
	// session ends.
	writeErr error

	dbms     string
	settings map[string]string
	loc      *time.Location
	cluster  bool      // lakenode.scope = cluster
	now      time.Time // lakenode.now: the session's now(); zero: the clock
	tx       byte      // 'I' idle, 'T' in a (no-op) transaction block, 'E' failed
	stmts    map[string]*prepared
	portals  map[string]*portal
	skipSync bool // an extended-protocol error: discard until Sync

	mu     sync.Mutex
	cancel context.CancelFunc // of the running query
}

// prepared is a statement of the extended protocol (Parse).
type prepared struct {
	text   string
	oids   []uint32 // declared parameter types, one per $n
	nparam int
}

// portal is a bound statement (Bind), ready to Execute.
type portal struct {
	stmt     *prepared
	params   []string // literals
	formats  []int16  // result formats
	cols     []Column // from Describe, when it was asked
	buffered *bufferedRows
}

func newSession(srv *Server, c net.Conn, be *pgproto3.Backend, params map[string]string, tlsOn bool) *session {
	s := &session{
		srv: srv, conn: c, be: be, params: params, tlsOn: tlsOn,
		dbms: params["database"], loc: time.UTC, tx: 'I',
		settings: map[string]string{},
		stmts:    map[string]*prepared{}, portals: map[string]*portal{},
	}
	for k, v := range defaultSettings {
		s.settings[k] = v
	}
	if app := params["application_name"]; app != "" {
		s.settings["application_name"] = app
	}
	if tz := params["TimeZone"]; tz != "" {
		_ = s.setTimeZone(tz)
	}
	if opts := params["options"]; opts != "" {
		s.startupOptions(opts)
	}
	return s
}

// startupOptions applies `-c name=value` pairs of the options parameter.
func (s *session) startupOptions(opts string) {
	f := strings.Fields(opts)
	for i := 0; i < len(f); i++ {
		kv := f[i]
		if kv == "-c" && i+1 < len(f) {
			i++
			kv = f[i]
		} else if !strings.HasPrefix(kv, "--") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(kv, "--"), "=")
		if ok {
			_ = s.set(strings.ToLower(name), val)
		}
	}
}

// authenticate asks for the token as the password, or lets a loopback
// client in when the node has none.
func (s *session) authenticate() error {
	loop := isLoopback(s.conn.RemoteAddr()) && !s.srv.cfg.treatAsRemote
	if len(s.srv.cfg.Token) == 0 {
		if !loop {
			return &pgError{Code: codeInvalidAuth, Msg: "this node has no token, so it serves only loopback clients: start it with --auth-token-file"}
		}
		return nil
	}
	if s.tlsOn || loop {
		return s.cleartext()
	}
	return s.scram()
}

var errBadPassword = errors.New("bad password")

func (s *session) cleartext() error {
	s.be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := s.be.Flush(); err != nil {
		return err
	}
	if err := s.be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
		return err
	}
	msg, err := s.be.Receive()
	if err != nil {
		return err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok || subtle.ConstantTimeCompare([]byte(pm.Password), s.srv.cfg.Token) != 1 {
		return passwordFailed(s.params["user"])
	}
	return nil
}

func passwordFailed(user string) error {
	return fmt.Errorf("%w: %w", errBadPassword, &pgError{Code: codeInvalidPass, Msg: fmt.Sprintf("password authentication failed for user %q: the password is the node's token", user)})
}

func (s *session) scram() error {
	s.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := s.be.Flush(); err != nil {
		return err
	}
	if err := s.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	msg, err := s.be.Receive()
	if err != nil {
		return err
	}
	init, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || init.AuthMechanism != "SCRAM-SHA-256" {
		return &pgError{Code: codeProtocol, Msg: "expected a SCRAM-SHA-256 initial response"}
	}
	x := &scramExchange{keys: s.srv.keys}
	first, err := x.first(init.Data)
	if err != nil {
		return passwordFailed(s.params["user"])
	}
	s.be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(first)})
	if err := s.be.Flush(); err != nil {
		return err
	}
	if err := s.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	msg, err = s.be.Receive()
	if err != nil {
		return err
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return &pgError{Code: codeProtocol, Msg: "expected a SCRAM-SHA-256 response"}
	}
	final, err := x.final(resp.Data)
	if err != nil {
		return passwordFailed(s.params["user"])
	}
	s.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte(final)})
	return nil
}

// ready ends start-up: the server's parameters, the cancel key, and
// ReadyForQuery.
func (s *session) ready() error {
	s.be.Send(&pgproto3.AuthenticationOk{})
	for _, k := range reportedSettings {
		s.be.Send(&pgproto3.ParameterStatus{Name: k, Value: s.setting(k)})
	}
	s.be.Send(&pgproto3.BackendKeyData{ProcessID: s.pid, SecretKey: s.secret})
	s.be.Send(&pgproto3.ReadyForQuery{TxStatus: s.tx})
	return s.be.Flush()
}

// loop reads and answers messages until the client goes or stays idle
// too long.
func (s *session) loop(ctx context.Context) {
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.srv.cfg.IdleTimeout))
		// Bounds the writes that do not go through flush (a fatal
		// error's); each flush sets its own.
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.IdleTimeout + s.srv.cfg.WriteTimeout))
		msg, err := s.be.Receive()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				fatal(s.be, &pgError{Code: codeIdleTimeout, Msg: fmt.Sprintf("terminating connection due to idle timeout: nothing received for %v (--pg-idle-timeout)", s.srv.cfg.IdleTimeout)})
			} else if ctx.Err() == nil && !isEOF(err) {
				fatal(s.be, &pgError{Code: codeProtocol, Msg: "invalid message: " + err.Error()})
			}
			return
		}
		_ = s.conn.SetReadDeadline(time.Time{})
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
		if err := s.handle(ctx, msg); err != nil || s.writeErr != nil {
			return
		}
	}
}

// flush sends what is buffered, within the write timeout: a client that
// stops reading is cut off instead of holding the session.
// After a failed write the stream is cut mid-message, so the session ends
// (writeErr), whatever is written after.
func (s *session) flush() error {
	if s.writeErr != nil {
		return s.writeErr
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
	if err := s.be.Flush(); err != nil {
		s.writeErr = err
		return err
	}
	return nil
}

func isEOF(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF")
}

// handle answers one message; an error means the connection is lost.
func (s *session) handle(ctx context.Context, msg pgproto3.FrontendMessage) error {
	if _, isSync := msg.(*pgproto3.Sync); s.skipSync && !isSync {
		return nil
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		s.simpleQuery(ctx, m.String)
		s.be.Send(&pgproto3.ReadyForQuery{TxStatus: s.tx})
		return s.flush()
	case *pgproto3.Sync:
		s.skipSync = false
		s.be.Send(&pgproto3.ReadyForQuery{TxStatus: s.tx})
		return s.flush()
	case *pgproto3.Flush:
		return s.flush()
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
		if err := s.extended(ctx, msg); err != nil {
			s.sendError(toPG(err, "", nil))
			s.skipSync = true
		}
		return nil
	default:
		s.sendError(&pgError{Code: codeProtocol, Msg: fmt.Sprintf("message %T is not supported", msg)})
		return s.flush()
	}
}

// sendError sends an error, marking a transaction block failed.
func (s *session) sendError(e *pgError) {
	if s.tx == 'T' {
		s.tx = 'E'
	}
	s.be.Send(e.response())
}

// queryContext is the context of one query, which a cancel request stops.
func (s *session) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	qctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	return qctx, func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
	}
}

func (s *session) cancelQuery() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}
