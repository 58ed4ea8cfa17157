package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakenode/lakenode/node/auth/authtest"
)

func TestRemoteMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := authtest.WriteCA(t, dir, "cluster")
	_, otherCert, otherKey := authtest.WriteCA(t, dir, "other")
	srv := Settings{TLSCert: cert, TLSKey: key, ClientCA: ca}
	var logged atomic.Int32
	addr, rec := serve(t, srv, func(string, ...any) { logged.Add(1) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Probe(ctx, addr); err != nil {
		t.Fatalf("a certificate of the cluster's CA: %v", err)
	}
	// A certificate of another CA (it trusts the cluster's CA for the
	// server, so only the client side fails).
	if err := (Settings{TLSCert: otherCert, TLSKey: otherKey, ClientCA: ca}).Probe(ctx, addr); !errors.Is(err, ErrRefused) {
		t.Fatalf("another CA's certificate: %v, want a refusal", err)
	}
	// No TLS at all.
	if err := (Settings{}).Probe(ctx, addr); err == nil {
		t.Fatal("a plaintext client was served")
	}
	if rec.streams.Load() != 1 {
		t.Fatalf("streams = %d, want only the trusted one", rec.streams.Load())
	}
	if logged.Load() == 0 {
		t.Fatal("failed handshakes were not logged")
	}
}

// HTTPS with client certificates on the REST port.
func TestServerTLSRequiresClientCert(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := authtest.WriteCA(t, dir, "cluster")
	s := Settings{TLSCert: cert, TLSKey: key, ClientCA: ca}
	cfg, err := s.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }), TLSConfig: cfg}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	defer hs.Close()
	cli, err := s.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + ln.Addr().String() + "/"
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cli}}).Get(url)
	if err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	_ = resp.Body.Close()
	noCert := cli.Clone()
	noCert.Certificates = nil
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}).Get(url); err == nil {
		_ = resp.Body.Close()
		t.Fatal("served without a client certificate")
	}
}
