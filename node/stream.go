package node

import (
	"bufio"
	"errors"
	"io"
	"time"

	"github.com/lakenode/lakenode/node/output"
	"github.com/lakenode/lakenode/tables/schema"
)

// A streamed reply (format = json:output to stdout or REST) is written as
// its rows are produced instead of being built whole: ExecOptions.Stream is
// called once, before the first byte, with the notices known then, and
// returns where the rows go. A reply with no rows is never streamed: it
// comes back in Result.Text as before, and so does an error raised before
// the first row. Once a reply has started, Result.Streamed is set and an
// error can only follow the rows: the shell prints it on stderr; REST ends
// the body with an {"Error" : "..."} line and the X-Lakenode-Error trailer
// (the status, 200, is already sent).

// streamFlushEvery is how long a streamed row may wait in the buffer.
const streamFlushEvery = 100 * time.Millisecond

// rowStream buffers a streamed reply, starting it on the first write and
// flushing it when the buffer fills or streamFlushEvery after the last
// flush, so a slow query's rows still arrive as they come.
type rowStream struct {
	begin   func(notices []string) io.Writer
	notices []string
	// ctype, when set, is the reply's content type, for a writer that
	// takes one (REST).
	ctype string

	w       io.Writer
	bw      *bufio.Writer
	last    time.Time
	started bool
}

// errStreamWrite is a failed write of a streamed reply: the reader is gone.
type errStreamWrite struct{ err error }

func (e *errStreamWrite) Error() string { return "the reply could not be delivered: " + e.err.Error() }
func (e *errStreamWrite) Unwrap() error { return e.err }

func (s *rowStream) write(b []byte) error {
	if !s.started {
		s.started = true
		s.w = s.begin(s.notices)
		if ct, ok := s.w.(interface{ SetContentType(string) }); ok && s.ctype != "" {
			ct.SetContentType(s.ctype)
		}
		s.bw = bufio.NewWriterSize(s.w, 64<<10)
		s.last = time.Now()
	}
	if _, err := s.bw.Write(b); err != nil {
		return &errStreamWrite{err}
	}
	if time.Since(s.last) >= streamFlushEvery {
		return s.flush()
	}
	return nil
}

// flush sends what is buffered on, through the writer's own Flush when it
// has one (an HTTP response).
func (s *rowStream) flush() error {
	if !s.started {
		return nil
	}
	s.last = time.Now()
	if err := s.bw.Flush(); err != nil {
		return &errStreamWrite{err}
	}
	if f, ok := s.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return &errStreamWrite{err}
		}
	}
	return nil
}

// streamable reports whether a query's reply may stream: json:output or
// csv to stdout (or REST), when the caller takes a stream.
func streamable(format, dest string, opts ExecOptions) bool {
	return opts.Stream != nil && streamedFormat(format) && (dest == "" || dest == "stdout" || dest == "rest")
}

// streamedFormat: the formats written a row at a time.
func streamedFormat(format string) bool { return format == "json:output" || format == "csv" }

// rowEncoder writes the rows of a streamed format: json:output's JSON
// lines, or csv's lines after its header.
type rowEncoder struct {
	csv    bool
	cols   []string
	loc    *time.Location
	header bool // written
}

func newRowEncoder(format string, loc *time.Location) *rowEncoder {
	return &rowEncoder{csv: format == "csv", loc: loc}
}

func (e *rowEncoder) row(b []byte, row schema.Row) []byte {
	if !e.csv {
		b = output.RowJSON(b, e.cols, row, e.loc)
		return append(b, '\n')
	}
	if !e.header {
		e.header = true
		b = output.CSVHeader(b, e.cols)
	}
	return output.CSVRow(b, len(e.cols), row, e.loc)
}

// tail is what follows the rows: json:output's Statistics line or its
// empty reply; csv's header when no row came (never statistics).
func (e *rowEncoder) tail(stat bool, stats output.QueryStats) string {
	switch {
	case e.csv && !e.header:
		return string(output.CSVHeader(nil, e.cols))
	case e.csv:
		return ""
	case stat:
		return stats.JSON() + "\n"
	case stats.Count == 0:
		return output.EmptyReply + "\n"
	}
	return ""
}

func (e *rowEncoder) contentType() string {
	if e.csv {
		return "text/csv; charset=utf-8; header=present"
	}
	return "application/json"
}

func isStreamWrite(err error) bool {
	var e *errStreamWrite
	return errors.As(err, &e)
}

// tooManyRows is the error of a reply built whole that passes
// --max-result-rows.
func tooManyRows(max int64, format string) Result {
	return failf("query stopped: the reply has more than %d rows, the node's limit for a reply that is built whole (format = %s); add limit, use format = json:output (streamed, not limited), or start the node with --max-result-rows N", max, format)
}
