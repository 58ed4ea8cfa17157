package pgwire

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// scramIterations is the PBKDF2 iteration count, PostgreSQL's default.
const scramIterations = 4096

// scramKeys are a password's SCRAM-SHA-256 keys for one salt (RFC 5802,
// RFC 7677); the server computes them once.
type scramKeys struct {
	salt                []byte
	storedKey, serverKy []byte
}

func newScramKeys(password []byte) (*scramKeys, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	salted, err := pbkdf2.Key(sha256.New, string(password), salt, scramIterations, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving SCRAM keys: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return &scramKeys{salt: salt, storedKey: stored[:], serverKy: hmacSHA256(salted, "Server Key")}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// errSCRAM is a failed exchange: a wrong password or a malformed message.
// The client hears only "password authentication failed".
var errSCRAM = errors.New("SCRAM authentication failed")

// scramExchange is the server's side of one SCRAM-SHA-256 exchange.
type scramExchange struct {
	keys            *scramKeys
	clientFirstBare string
	serverFirst     string
	nonce           string
}

// first takes the client-first message and returns the server-first.
func (x *scramExchange) first(msg []byte) (string, error) {
	s := string(msg)
	// gs2 header: no channel binding ("n,,"), or a client that could bind
	// but thinks we cannot ("y,,"); "p=..." asks for binding, not offered.
	var rest string
	switch {
	case strings.HasPrefix(s, "n,,"), strings.HasPrefix(s, "y,,"):
		rest = s[3:]
	default:
		return "", fmt.Errorf("%w: channel binding is not offered", errSCRAM)
	}
	x.clientFirstBare = rest
	var cnonce string
	for _, attr := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			cnonce = v
		}
	}
	if cnonce == "" || strings.ContainsAny(cnonce, ", ") {
		return "", fmt.Errorf("%w: no client nonce", errSCRAM)
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	x.nonce = cnonce + base64.RawStdEncoding.EncodeToString(b)
	x.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", x.nonce, base64.StdEncoding.EncodeToString(x.keys.salt), scramIterations)
	return x.serverFirst, nil
}

// final checks the client-final message's proof and returns the
// server-final message.
func (x *scramExchange) final(msg []byte) (string, error) {
	s := string(msg)
	i := strings.LastIndex(s, ",p=")
	if i < 0 {
		return "", fmt.Errorf("%w: no proof", errSCRAM)
	}
	withoutProof, proofB64 := s[:i], s[i+3:]
	var nonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			nonce = v
		}
	}
	if subtle.ConstantTimeCompare([]byte(nonce), []byte(x.nonce)) != 1 {
		return "", fmt.Errorf("%w: nonce mismatch", errSCRAM)
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "", fmt.Errorf("%w: malformed proof", errSCRAM)
	}
	authMsg := x.clientFirstBare + "," + x.serverFirst + "," + withoutProof
	sig := hmacSHA256(x.keys.storedKey, authMsg)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ sig[i]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], x.keys.storedKey) != 1 {
		return "", errSCRAM
	}
	return "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(x.keys.serverKy, authMsg)), nil
}
