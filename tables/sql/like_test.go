package sql

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// backtrackLike is the matcher likeMatch replaced: plainly correct, and
// exponential in the number of %s. It is the reference here.
func backtrackLike(s, pat string) bool {
	s, pat = strings.ToLower(s), strings.ToLower(pat)
	var match func(si, pi int) bool
	match = func(si, pi int) bool {
		for pi < len(pat) {
			switch pat[pi] {
			case '%':
				for pi < len(pat) && pat[pi] == '%' {
					pi++
				}
				if pi == len(pat) {
					return true
				}
				for k := si; k <= len(s); k++ {
					if match(k, pi) {
						return true
					}
				}
				return false
			case '_':
				if si >= len(s) {
					return false
				}
				si++
				pi++
			default:
				if si >= len(s) || s[si] != pat[pi] {
					return false
				}
				si++
				pi++
			}
		}
		return si == len(s)
	}
	return match(0, 0)
}

func TestLikeMatch(t *testing.T) {
	cases := []struct {
		s, pat string
		want   bool
	}{
		{"", "", true}, {"", "%", true}, {"", "_", false}, {"a", "a%a", false},
		{"aa", "a%a", true}, {"abc", "a_c", true}, {"abc", "%b%", true}, {"ABC", "a%", true},
		{"device-42", "device-%", true}, {"device-42", "%-4_", true}, {"device-42", "%-4", false},
		{"abab", "%ab", true}, {"abab", "ab%ab%", true}, {"abab", "ab%ab%ab", false},
	}
	for _, c := range cases {
		if got := likeMatch(c.s, c.pat); got != c.want {
			t.Errorf("%q like %q = %v, want %v", c.s, c.pat, got, c.want)
		}
	}
	// Random short strings and patterns against the backtracking matcher.
	r := rand.New(rand.NewPCG(1, 2))
	word := func(alpha string, n int) string {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for range 200_000 {
		s, pat := word("abA", 8), word("ab%_", 7)
		if got, want := likeMatch(s, pat), backtrackLike(s, pat); got != want {
			t.Fatalf("%q like %q = %v, want %v", s, pat, got, want)
		}
	}
	// What was exponential: 40 %s that all match, then a byte that does
	// not, against 20,000 bytes.
	t0 := time.Now()
	if likeMatch(strings.Repeat("a", 20_000), strings.Repeat("%a", 40)+"b") {
		t.Fatal("matched")
	}
	if took := time.Since(t0); took > 10*time.Second { // exponential: minutes; room for -race on a loaded machine
		t.Fatalf("took %v", took)
	}
}
