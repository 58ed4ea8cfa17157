package kafkatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certs is a test PKI written as PEM files into Dir: a CA, a server
// certificate for 127.0.0.1 and localhost, and a client certificate, all
// ECDSA P-256 and signed by the CA.
type Certs struct {
	Dir string
	// File names inside Dir.
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	// The same material in memory.
	CAPEM, ServerCertPEM, ServerKeyPEM, ClientCertPEM, ClientKeyPEM []byte
}

// Names of the files WriteCerts writes.
const (
	CAFile         = "ca.pem"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server-key.pem"
	ClientCertFile = "client.pem"
	ClientKeyFile  = "client-key.pem"
)

// WriteCerts generates a CA with a server and a client certificate and
// writes them into dir (keys in PKCS#8, mode 0600).
func WriteCerts(dir string) (*Certs, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lakenode test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("signing the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(7 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
	}
	c := &Certs{Dir: dir, CA: CAFile, ServerCert: ServerCertFile, ServerKey: ServerKeyFile, ClientCert: ClientCertFile, ClientKey: ClientKeyFile}
	c.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if c.ServerCertPEM, c.ServerKeyPEM, err = leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("generating the server certificate: %w", err)
	}
	if c.ClientCertPEM, c.ClientKeyPEM, err = leaf(3, "lakenode test client", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, fmt.Errorf("generating the client certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{CAFile, c.CAPEM}, {ServerCertFile, c.ServerCertPEM}, {ServerKeyFile, c.ServerKeyPEM}, {ClientCertFile, c.ClientCertPEM}, {ClientKeyFile, c.ClientKeyPEM}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return c, nil
}

// ServerTLS is a server configuration with the server certificate.
func (c *Certs) ServerTLS() (*tls.Config, error) {
	pair, err := tls.X509KeyPair(c.ServerCertPEM, c.ServerKeyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// ClientTLS is a client configuration that trusts the CA.
func (c *Certs) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
