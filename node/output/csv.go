package output

import (
	"strings"
	"time"

	"github.com/lakenode/lakenode/tables/schema"
)

// CSV (format = csv) is RFC 4180: a header line of the column names, then
// one line per row, each line ended by CRLF; a field holding a comma, a
// double quote, CR or LF is quoted, its quotes doubled. NULL is an empty
// field; timestamps print as in the table format. No Statistics block: a
// CSV reader would take it for a row.

// CSVHeader appends the header line of columns to b.
func CSVHeader(b []byte, columns []string) []byte {
	for i, c := range columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, c)
	}
	return append(b, '\r', '\n')
}

// CSVRow appends one row's line to b.
func CSVRow(b []byte, ncols int, row schema.Row, loc *time.Location) []byte {
	for i := range ncols {
		if i > 0 {
			b = append(b, ',')
		}
		if i < len(row) && !row[i].IsNull() {
			b = appendCSVField(b, cellText(row[i], loc))
		}
	}
	return append(b, '\r', '\n')
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
