package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// testCA writes a CA and a certificate it signs for 127.0.0.1 (server and
// client use) to dir, and returns the file names.
func testCA(t *testing.T, dir, name string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	write := func(f, typ string, b []byte) string {
		p := filepath.Join(dir, name+"-"+f)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", kb)
}

func TestRemoteMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := testCA(t, dir, "cluster")
	_, otherCert, otherKey := testCA(t, dir, "other")
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
	ca, cert, key := testCA(t, dir, "cluster")
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
