package auth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodToken = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0Cg=="

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noEnv := func(string) string { return "" }
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == TokenEnv {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		name    string
		file    string
		getenv  func(string) string
		want    string
		wantErr string
	}{
		{"file with newline", write("ok", goodToken+"\n", 0o600), noEnv, goodToken, ""},
		{"file wins over env", write("ok2", goodToken+"\n", 0o400), env("other-token-other-token"), goodToken, ""},
		{"world-readable", write("wr", goodToken, 0o644), noEnv, "", "readable or writable by others"},
		{"world-writable", write("ww", goodToken, 0o602), noEnv, "", "readable or writable by others"},
		{"empty", write("empty", "\n", 0o600), noEnv, "", "the token is empty"},
		{"short", write("short", "abc", 0o600), noEnv, "", "shorter than 16"},
		{"spaces inside", write("sp", "abcdefgh ijklmnopq", 0o600), noEnv, "", "printable ASCII"},
		{"missing file", filepath.Join(dir, "nope"), noEnv, "", "no such file"},
		{"directory", dir, noEnv, "", "not a regular file"},
		{"env", "", env(" " + goodToken + "\n"), goodToken, ""},
		{"env short", "", env("short"), "", TokenEnv + ": the token is 5 bytes"},
		{"none", "", noEnv, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := LoadToken(c.file, c.getenv)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), goodToken) {
					t.Fatalf("the error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("token = %q, want %q", got, c.want)
			}
		})
	}
}

func TestUnreadableTokenFile(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads a mode-000 file; the error path is the same as for a
		// missing file (os.ReadFile's error), tested above.
		p := filepath.Join(t.TempDir(), "tok")
		if err := os.WriteFile(p, []byte(goodToken), 0o000); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadToken(p, os.Getenv); err != nil {
			t.Fatalf("root reads a 000 file: %v", err)
		}
		return
	}
	p := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(p, []byte(goodToken), 0o000); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadToken(p, os.Getenv); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v, want permission denied", err)
	}
}

func TestIsLoopback(t *testing.T) {
	cases := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:32048", true},
		{"127.3.4.5:1", true},
		{"[::1]:32048", true},
		{"localhost:32048", true},
		{"LOCALHOST:1", true},
		{"0.0.0.0:32048", false},
		{":32048", false},
		{"[::]:32048", false},
		{"10.0.0.5:32048", false},
		{"192.168.1.2:80", false},
		{"node1.lan:32048", false},
		{"[::ffff:127.0.0.1]:1", true},
	}
	for _, c := range cases {
		got, err := IsLoopback(c.addr)
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		if got != c.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", c.addr, got, c.want)
		}
	}
	if _, err := IsLoopback("no-port"); err == nil {
		t.Error("IsLoopback(no-port): no error")
	}
}

func TestCheckListenAndValidate(t *testing.T) {
	tok := Settings{Token: []byte(goodToken)}
	mtls := Settings{TLSCert: "c.pem", TLSKey: "k.pem", ClientCA: "ca.pem"}
	cases := []struct {
		name    string
		s       Settings
		addr    string
		wantErr string
	}{
		{"loopback, nothing", Settings{}, "127.0.0.1:1", ""},
		{"wildcard, nothing", Settings{}, "0.0.0.0:1", "--listen 0.0.0.0:1 is not a loopback address"},
		{"empty host, nothing", Settings{}, ":1", "not a loopback address"},
		{"LAN, nothing", Settings{}, "10.1.2.3:1", "--auth-token-file"},
		{"LAN, token", tok, "10.1.2.3:1", ""},
		{"LAN, mTLS", mtls, "10.1.2.3:1", ""},
		{"LAN, TLS without client CA", Settings{TLSCert: "c", TLSKey: "k"}, "10.1.2.3:1", "not a loopback address"},
		{"bad address", Settings{}, "nope", "missing port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.CheckListen("--listen", c.addr)
			if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
		})
	}
	for _, c := range []struct {
		s       Settings
		wantErr string
	}{
		{Settings{TLSCert: "c"}, "go together"},
		{Settings{TLSKey: "k"}, "go together"},
		{Settings{ClientCA: "ca"}, "--client-ca needs"},
		{mtls, ""},
		{Settings{TLSCert: "c", TLSKey: "k"}, ""},
	} {
		err := c.s.Validate()
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", c.s, err, c.wantErr)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	cases := []struct {
		host, bound string
		want        bool
	}{
		{"127.0.0.1:32049", "127.0.0.1:32049", true},
		{"localhost:32049", "127.0.0.1:32049", true},
		{"[::1]:32049", "127.0.0.1:32049", true},
		{"127.0.0.1:32050", "127.0.0.1:32049", false},
		{"127.0.0.1", "127.0.0.1:32049", false},
		{"evil.example:32049", "127.0.0.1:32049", false},
		{"rebind.127.0.0.1.nip.io:32049", "127.0.0.1:32049", false},
		{"10.0.0.5:32049", "10.0.0.5:32049", true},
		{"localhost:32049", "10.0.0.5:32049", false},
		{"node1.lan:32049", "node1.lan:32049", true},
		{"10.0.0.5:32049", "0.0.0.0:32049", true},
		{"localhost:32049", "[::]:32049", true},
		{"evil.example:32049", "0.0.0.0:32049", false},
		{"", "127.0.0.1:32049", false},
	}
	for _, c := range cases {
		if got := HostAllowed(c.host, c.bound); got != c.want {
			t.Errorf("HostAllowed(%q, %q) = %v, want %v", c.host, c.bound, got, c.want)
		}
	}
}

func TestOriginAndBearer(t *testing.T) {
	if !OriginAllowed("http://127.0.0.1:32049", "127.0.0.1:32049", false) {
		t.Error("own origin refused")
	}
	for _, o := range []string{"https://127.0.0.1:32049", "http://evil.example", "null", "http://127.0.0.1:32050"} {
		if OriginAllowed(o, "127.0.0.1:32049", false) {
			t.Errorf("origin %q allowed", o)
		}
	}
	if !OriginAllowed("https://10.0.0.5:1", "10.0.0.5:1", true) {
		t.Error("own https origin refused")
	}
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer ": "", "": ""} {
		got, ok := Bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("Bearer(%q) = %q, %v", h, got, ok)
		}
	}
	if Equal([]byte("x"), nil) || Equal(nil, nil) || !Equal([]byte("abc"), []byte("abc")) || Equal([]byte("abd"), []byte("abc")) {
		t.Error("Equal")
	}
}

func TestHTTPGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ran")) })
	const bound = "127.0.0.1:32049"
	var logged []string
	withToken := (&HTTPGuard{Token: []byte(goodToken), Bound: bound, Log: func(msg string, args ...any) { logged = append(logged, msg) }}).Wrap(ok)
	metricsOpen := (&HTTPGuard{Token: []byte(goodToken), Bound: bound, MetricsOpen: true}).Wrap(ok)
	noToken := (&HTTPGuard{Bound: bound}).Wrap(ok)
	type req struct {
		path, host, auth, origin, fetchSite string
	}
	cases := []struct {
		name string
		h    http.Handler
		r    req
		want int
	}{
		{"token: none", withToken, req{path: "/"}, 401},
		{"token: wrong", withToken, req{path: "/", auth: "Bearer wrong-wrong-wrong-wrong"}, 401},
		{"token: basic scheme", withToken, req{path: "/", auth: "Basic " + goodToken}, 401},
		{"token: right", withToken, req{path: "/", auth: "Bearer " + goodToken}, 200},
		{"token: healthz open", withToken, req{path: "/healthz"}, 200},
		{"token: healthz bad host still open", withToken, req{path: "/healthz", host: "evil.example:32049"}, 200},
		{"token: metrics closed", withToken, req{path: "/metrics"}, 401},
		{"token: metrics with token", withToken, req{path: "/metrics", auth: "Bearer " + goodToken}, 200},
		{"token: metrics open", metricsOpen, req{path: "/metrics"}, 200},
		{"token: metrics open, bad host", metricsOpen, req{path: "/metrics", host: "evil.example:32049"}, 403},
		{"token: right, cross-origin", withToken, req{path: "/", auth: "Bearer " + goodToken, origin: "http://evil.example"}, 200},
		{"token: right, any host name", withToken, req{path: "/", auth: "Bearer " + goodToken, host: "node1.lan:32049"}, 200},
		{"open: plain", noToken, req{path: "/"}, 200},
		{"open: localhost", noToken, req{path: "/", host: "localhost:32049"}, 200},
		{"open: rebinding host", noToken, req{path: "/", host: "evil.example:32049"}, 403},
		{"open: wrong port", noToken, req{path: "/", host: "127.0.0.1:80"}, 403},
		{"open: cross-origin", noToken, req{path: "/", origin: "http://evil.example"}, 403},
		{"open: null origin", noToken, req{path: "/", origin: "null"}, 403},
		{"open: same origin", noToken, req{path: "/", origin: "http://127.0.0.1:32049"}, 200},
		{"open: cross-site fetch", noToken, req{path: "/", fetchSite: "cross-site"}, 403},
		{"open: preflight from a page", noToken, req{path: "/", origin: "http://evil.example"}, 403},
		{"open: metrics", noToken, req{path: "/metrics"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://"+bound+c.r.path, nil)
			if c.r.host != "" {
				r.Host = c.r.host
			}
			if c.r.auth != "" {
				r.Header.Set("Authorization", c.r.auth)
			}
			if c.r.origin != "" {
				r.Header.Set("Origin", c.r.origin)
			}
			if c.r.fetchSite != "" {
				r.Header.Set("Sec-Fetch-Site", c.r.fetchSite)
			}
			w := httptest.NewRecorder()
			c.h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.want, w.Body.String())
			}
			if (w.Code == 200) != (w.Body.String() == "ran") {
				t.Fatalf("status %d but body %q", w.Code, w.Body.String())
			}
			if strings.Contains(w.Body.String(), goodToken) {
				t.Fatal("the reply shows the token")
			}
		})
	}
	// Four refusals of one source for one reason (no or a wrong token):
	// logged once.
	if len(logged) != 1 {
		t.Fatalf("refusals logged %d times, want once: %v", len(logged), logged)
	}
}

func TestOnceEvery(t *testing.T) {
	o := newOnceEvery(time.Minute)
	now := time.Unix(1000, 0)
	o.now = func() time.Time { return now }
	if !o.allow("a") || o.allow("a") || !o.allow("b") {
		t.Fatal("first per key allowed, the repeat not")
	}
	now = now.Add(59 * time.Second)
	if o.allow("a") {
		t.Fatal("allowed within the minute")
	}
	now = now.Add(2 * time.Second)
	if !o.allow("a") {
		t.Fatal("not allowed after the minute")
	}
}
