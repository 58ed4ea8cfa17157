package auth

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// HTTPGuard authenticates the REST port. With a token every request but
// /healthz needs `Authorization: Bearer TOKEN` (/metrics too unless
// MetricsOpen). A request without a valid token must also name the node in
// its Host header (DNS rebinding) and come from no other origin (a web page
// in a browser on the same machine), so that a page cannot drive the node.
type HTTPGuard struct {
	Token       []byte
	MetricsOpen bool
	// Bound is the listener's bound address (HOST:PORT).
	Bound string
	// TLS is true when the port serves HTTPS.
	TLS bool
	// Log receives refusals, once a minute per source and reason.
	Log func(msg string, args ...any)

	limit *onceEvery
}

// Wrap returns next behind the guard.
func (g *HTTPGuard) Wrap(next http.Handler) http.Handler {
	g.limit = newOnceEvery(time.Minute)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		tokenOK := false
		if len(g.Token) > 0 {
			if tok, ok := Bearer(r.Header.Get("Authorization")); ok && Equal([]byte(tok), g.Token) {
				tokenOK = true
			}
			if !tokenOK && (r.URL.Path != "/metrics" || !g.MetricsOpen) {
				g.refuse(r, "missing or wrong token")
				w.Header().Set("WWW-Authenticate", `Bearer realm="lakenode"`)
				http.Error(w, "unauthorized: send the node's token in an `Authorization: Bearer TOKEN` header", http.StatusUnauthorized)
				return
			}
		}
		if !tokenOK {
			if !HostAllowed(r.Host, g.Bound) {
				g.refuse(r, "Host header does not name this node")
				http.Error(w, "forbidden: the Host header must name this node's address ("+g.Bound+"), or send the node's token", http.StatusForbidden)
				return
			}
			if o := r.Header.Get("Origin"); (o != "" && !OriginAllowed(o, r.Host, g.TLS)) || strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
				g.refuse(r, "cross-origin request")
				http.Error(w, "forbidden: cross-origin requests need the node's token", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (g *HTTPGuard) refuse(r *http.Request, reason string) {
	if g.Log == nil {
		return
	}
	src, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		src = r.RemoteAddr
	}
	if g.limit.allow(src + "|" + reason) {
		g.Log("REST request refused (logged once a minute per source)", "from", src, "reason", reason, "path", r.URL.Path)
	}
}

// Bearer extracts the token of an `Authorization: Bearer TOKEN` header.
func Bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) < len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != ""
}

// HostAllowed reports whether a request's Host header names the node bound
// at bound: the same host and port; for a loopback bind also localhost,
// 127.0.0.1 or [::1] with the port; for a wildcard bind (0.0.0.0, ::) an IP
// literal or localhost with the port. A DNS name other than localhost is
// refused unless it is the bound host itself, which defeats DNS rebinding.
func HostAllowed(host, bound string) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		return false
	}
	bh, bp, err := net.SplitHostPort(bound)
	if err != nil || p != bp {
		return false
	}
	if strings.EqualFold(h, bh) {
		return true
	}
	switch {
	case IsLoopbackHost(bh):
		return IsLoopbackHost(h)
	case bh == "" || net.ParseIP(bh) != nil && net.ParseIP(bh).IsUnspecified():
		return IsLoopbackHost(h) || net.ParseIP(h) != nil
	}
	return false
}

// OriginAllowed reports whether a browser's Origin header is the node's own
// origin (scheme://Host).
func OriginAllowed(origin, host string, tls bool) bool {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+host)
}
