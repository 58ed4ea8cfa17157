package main

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"1GiB", 1 << 30, ""},
		{"512MiB", 512 << 20, ""},
		{"512mib", 512 << 20, ""},
		{"64 KiB", 64 << 10, ""},
		{"2G", 2 << 30, ""},
		{"16M", 16 << 20, ""},
		{"500MB", 500_000_000, ""},
		{"1.5GiB", 3 << 29, ""},
		{"1048576", 1 << 20, ""},
		{"100B", 100, ""},
		{"0", 0, ""},
		{"", 0, "not a size"},
		{"GiB", 0, "not a size"},
		{"-1GiB", 0, "not a size"},
		{"ten MiB", 0, "not a size"},
		{"1PiB", 0, "not a size"},
		{"99999999999TiB", 0, "too large"},
		{"1e30GiB", 0, "too large"},
	} {
		got, err := parseSize(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseSize(%q) = %d, %v; want an error with %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[uint64]string{1 << 30: "1GiB", 512 << 20: "512MiB", 1536 << 20: "1536MiB", 100: "100", 0: "0", 3 << 40: "3TiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
