// Package output renders results as EdgeLake prints them: the `|`-separated
// tables of its monitoring commands, their `format = json` forms, and query
// results (json, json:output, json:list, table) with Python's json.dumps
// spelling. The shell, `-c` scripts and the REST port all use it.
package output

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table is one EdgeLake-style table: header lines whose cells are separated
// by blanks, a dash line and data lines whose cells end in `|`.
type Table struct {
	Title  string     // optional line before the table
	Indent string     // prefix of every line
	Header [][]string // one or more header lines
	Rows   [][]string
}

// numeric reports whether a cell holds a number (EdgeLake right-aligns
// numbers, cell by cell, and left-aligns everything else).
func numeric(s string) bool {
	if s == "" {
		return false
	}
	digits := 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case (c == '-' || c == '+') && i == 0, c == '.', c == ',', c == 'e' && digits > 0:
		default:
			return false
		}
	}
	return digits > 0
}

// String renders the table; every line ends in a newline.
func (t Table) String() string {
	ncols := 0
	for _, h := range t.Header {
		ncols = max(ncols, len(h))
	}
	for _, r := range t.Rows {
		ncols = max(ncols, len(r))
	}
	w := make([]int, ncols)
	measure := func(cells []string) {
		for i, c := range cells {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	for _, h := range t.Header {
		measure(h)
	}
	for _, r := range t.Rows {
		measure(r)
	}
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title)
		b.WriteByte('\n')
	}
	for _, h := range t.Header {
		b.WriteString(t.Indent)
		for i := range ncols {
			b.WriteString(pad(cell(h, i), w[i], false))
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	b.WriteString(t.Indent)
	for i := range ncols {
		b.WriteString(strings.Repeat("-", w[i]))
		b.WriteByte('|')
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		b.WriteString(t.Indent)
		for i := range ncols {
			b.WriteString(pad(cell(r, i), w[i], numeric(cell(r, i))))
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func cell(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

func pad(s string, w int, right bool) string {
	n := w - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

// Thousands writes n with comma separators, as EdgeLake does: 10,240.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
