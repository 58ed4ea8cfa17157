package auth

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// recorder is a remote endpoint that counts the streams it was handed and
// answers a connect request as protoactor's does.
type recorder struct {
	remote.UnimplementedRemotingServer
	streams atomic.Int32
}

func (r *recorder) Receive(s remote.Remoting_ReceiveServer) error {
	r.streams.Add(1)
	if _, err := s.Recv(); err != nil {
		return err
	}
	return s.Send(&remote.RemoteMessage{MessageType: &remote.RemoteMessage_ConnectResponse{ConnectResponse: &remote.ConnectResponse{}}})
}

func serve(t *testing.T, s Settings, log func(string, ...any)) (string, *recorder) {
	t.Helper()
	opts, err := s.RemoteServerOptions(log)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	rec := &recorder{}
	remote.RegisterRemotingServer(srv, rec)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), rec
}

func TestRemoteToken(t *testing.T) {
	var logged atomic.Int32
	addr, rec := serve(t, Settings{Token: []byte(goodToken)}, func(string, ...any) { logged.Add(1) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		name string
		tok  string
	}{{"no token", ""}, {"wrong token", "wrong-wrong-wrong-wrong"}, {"wrong again", "wrong-wrong-wrong-wrong"}} {
		err := Settings{Token: []byte(c.tok)}.Probe(ctx, addr)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "missing or wrong token") {
			t.Fatalf("%s: err = %v, want a refusal", c.name, err)
		}
		if strings.Contains(err.Error(), goodToken) || (c.tok != "" && strings.Contains(err.Error(), c.tok)) {
			t.Fatalf("%s: the error shows a token: %v", c.name, err)
		}
	}
	if n := rec.streams.Load(); n != 0 {
		t.Fatalf("the endpoint was handed %d unauthenticated streams", n)
	}
	if n := logged.Load(); n != 1 {
		t.Fatalf("refusals from one source logged %d times, want 1", n)
	}
	if err := (Settings{Token: []byte(goodToken)}).Probe(ctx, addr); err != nil {
		t.Fatalf("right token: %v", err)
	}
	if n := rec.streams.Load(); n != 1 {
		t.Fatalf("streams = %d after the right token, want 1", n)
	}
}

// protoactor's two unary RPCs panic; nobody may call them, not even with
// the token.
func TestRemoteUnaryRefused(t *testing.T) {
	for _, s := range []Settings{{}, {Token: []byte(goodToken)}} {
		addr, _ := serve(t, s, nil)
		dial, err := s.RemoteDialOptions()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(addr, dial...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = remote.NewRemotingClient(conn).ListProcesses(ctx, &remote.ListProcessesRequest{})
		cancel()
		_ = conn.Close()
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("ListProcesses: %v, want Unimplemented", err)
		}
	}
}

// Without a token configured (loopback) every stream is served.
func TestRemoteOpen(t *testing.T) {
	addr, rec := serve(t, Settings{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := (Settings{}).Probe(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if rec.streams.Load() != 1 {
		t.Fatal("stream not served")
	}
}
