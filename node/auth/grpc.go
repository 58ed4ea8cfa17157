package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// remoteMethod is the one RPC protoactor's remote uses: a bidirectional
// stream of message batches. Its two unary RPCs are unimplemented (they
// panic), so they are refused for everyone.
const remoteMethod = "/remote.Remoting/Receive"

// RemoteServerOptions are the gRPC server options of a remote actor
// endpoint. The token is checked in gRPC's tap handle, which runs when a
// stream's headers arrive: a refused stream is aborted before any message of
// it is read or decoded, so it gets no reply and causes no dial. With mutual
// TLS the handshake itself refuses a client without a certificate signed by
// --client-ca. Refusals go to log once a minute per source address.
func (s Settings) RemoteServerOptions(log func(msg string, args ...any)) ([]grpc.ServerOption, error) {
	limit := newOnceEvery(time.Minute)
	refuse := func(ctx context.Context, code codes.Code, reason string) error {
		src := "unknown"
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			src = p.Addr.String()
			if h, _, err := net.SplitHostPort(src); err == nil {
				src = h
			}
		}
		if log != nil && limit.allow(src+"|"+reason) {
			log("remote endpoint refused a connection (logged once a minute per source)", "from", src, "reason", reason)
		}
		return status.Error(code, "lakenode: "+reason)
	}
	check := func(ctx context.Context, method string, md metadata.MD) error {
		if method != remoteMethod {
			return refuse(ctx, codes.Unimplemented, "method "+method+" is not served")
		}
		if len(s.Token) > 0 && !tokenInMD(md, s.Token) {
			return refuse(ctx, codes.Unauthenticated, "missing or wrong token")
		}
		return nil
	}
	opts := []grpc.ServerOption{
		grpc.InTapHandle(func(ctx context.Context, info *tap.Info) (context.Context, error) {
			return ctx, check(ctx, info.FullMethodName, info.Header)
		}),
		// The same check again in the interceptors, in case a later gRPC
		// or protoactor version routes a stream around the tap handle.
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			md, _ := metadata.FromIncomingContext(ss.Context())
			if err := check(ss.Context(), info.FullMethod, md); err != nil {
				return err
			}
			return handler(srv, ss)
		}),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			if err := check(ctx, info.FullMethod, md); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
	}
	if s.MutualTLS() {
		cfg, err := s.ServerTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(&loggedTLS{TransportCredentials: credentials.NewTLS(cfg), refuse: refuse}))
	}
	return opts, nil
}

func tokenInMD(md metadata.MD, want []byte) bool {
	vals := md.Get("authorization")
	if len(vals) != 1 {
		return false
	}
	tok, ok := Bearer(vals[0])
	return ok && Equal([]byte(tok), want)
}

// loggedTLS logs failed handshakes (a client without a trusted certificate).
type loggedTLS struct {
	credentials.TransportCredentials
	refuse func(ctx context.Context, code codes.Code, reason string) error
}

func (l *loggedTLS) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := l.TransportCredentials.ServerHandshake(c)
	if err != nil {
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: c.RemoteAddr()})
		_ = l.refuse(ctx, codes.Unauthenticated, "TLS handshake failed: "+err.Error())
	}
	return conn, info, err
}

func (l *loggedTLS) Clone() credentials.TransportCredentials {
	return &loggedTLS{TransportCredentials: l.TransportCredentials.Clone(), refuse: l.refuse}
}

// RemoteDialOptions are the gRPC dial options for reaching other nodes'
// remote endpoints: the token on every stream, mutual TLS when configured.
func (s Settings) RemoteDialOptions() ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if s.MutualTLS() {
		cfg, err := s.ClientTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if len(s.Token) > 0 {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds{tok: s.Token}))
	}
	return opts, nil
}

// RemoteOptions returns protoactor's remote options for these settings.
func (s Settings) RemoteOptions(log func(msg string, args ...any)) ([]remote.ConfigOption, error) {
	srv, err := s.RemoteServerOptions(log)
	if err != nil {
		return nil, err
	}
	dial, err := s.RemoteDialOptions()
	if err != nil {
		return nil, err
	}
	return []remote.ConfigOption{remote.WithServerOptions(srv...), remote.WithDialOptions(dial...)}, nil
}

type tokenCreds struct{ tok []byte }

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t.tok)}, nil
}

// RequireTransportSecurity is false: a token also works over plain TCP (on a
// trusted network; use mutual TLS where the traffic can be read).
func (tokenCreds) RequireTransportSecurity() bool { return false }

// ErrRefused is returned by Probe when the node refuses this client's
// credentials.
var ErrRefused = errors.New("refused")

// Probe opens the remote stream to addr as protoactor would and waits for
// the node's connect response, so that a client learns at once, and
// clearly, that its token or certificate is refused.
func (s Settings) Probe(ctx context.Context, addr string) error {
	opts, err := s.RemoteDialOptions()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer func() { _ = conn.Close() }()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := remote.NewRemotingClient(conn).Receive(sctx)
	if err == nil {
		err = stream.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_ConnectRequest{ConnectRequest: &remote.ConnectRequest{
			ConnectionType: &remote.ConnectRequest_ServerConnection{ServerConnection: &remote.ServerConnection{SystemId: "probe", Address: "probe"}},
		}}})
	}
	if err == nil || errors.Is(err, io.EOF) {
		// Send reports a stream the node aborted as io.EOF; Recv has the
		// node's status.
		_, err = stream.Recv()
		_ = stream.CloseSend()
	}
	if err == nil {
		return nil
	}
	st, _ := status.FromError(err)
	switch {
	case st.Code() == codes.Unauthenticated:
		return fmt.Errorf("%w by the node at %s: %s (give the cluster's token with --auth-token-file FILE or %s)", ErrRefused, addr, strings.TrimPrefix(st.Message(), "lakenode: "), TokenEnv)
	case strings.Contains(st.Message(), "tls:") || strings.Contains(st.Message(), "handshake") || (s.MutualTLS() && st.Code() == codes.Unavailable):
		// With TLS 1.3 a refused client certificate shows as the node
		// closing the connection after the handshake.
		return fmt.Errorf("%w by the node at %s: TLS handshake failed or the node did not accept this certificate (%s); check --tls-cert, --tls-key and --client-ca", ErrRefused, addr, st.Message())
	}
	return fmt.Errorf("node at %s: %s", addr, st.Message())
}
