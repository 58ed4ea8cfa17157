package pgwire

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`select 1; select 2;`, []string{"select 1", "select 2"}},
		{`select ';'; select ";"`, []string{`select ';'`, `select ";"`}},
		{`select E'a\';b'; select 2`, []string{`select E'a\';b'`, "select 2"}},
		{`select $$a;b$$; select $x$;$x$`, []string{`select $$a;b$$`, `select $x$;$x$`}},
		{`select $1; select 2`, []string{"select $1", "select 2"}},
		{`-- only a comment;`, nil},
		{`select 1 /* ; */; ;`, []string{"select 1 /* ; */"}},
	} {
		if got := splitStatements(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzTranslate: translation never panics; what it produces maps every
// output position back into the client's text, in order; and a statement
// split into parts translates part by part.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		`select "value" from ping_sensor where timestamp > now() - interval '1 day'`,
		`select * from t where x = $1 and y = $2`, `select E'it\'s\n\x41\u00e9'`, `select $$a;b$$, $t$x$t$`,
		`select 'a\b', "a""b" -- $1`, `/* c */ select 1; select 2`, `select E'\U0001F600'`, `$`, `E'`, `$$`, `$a$`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		for _, st := range splitStatements(src) {
			if !strings.Contains(src, st) {
				t.Fatalf("%q: statement %q is not a part of it", src, st)
			}
		}
		tr, err := translate(src, []string{"1", "'x'"})
		if err != nil {
			if de, ok := err.(*dialectError); !ok || de.Pos < 0 || de.Pos > len(src) {
				t.Fatalf("%q: error %v at a position outside it", src, err)
			}
			return
		}
		last := 0
		for p := 0; p <= len(tr.SQL); p++ {
			o := tr.sourcePos(p)
			if o < last || o > len(src) {
				t.Fatalf("%q -> %q: position %d maps to %d (after %d)", src, tr.SQL, p, o, last)
			}
			last = o
		}
	})
}
