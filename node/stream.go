package node

import (
	"bufio"
	"errors"
	"io"
	"time"
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

// streamable reports whether a query's reply may stream: json:output to
// stdout (or REST), when the caller takes a stream.
func streamable(format, dest string, opts ExecOptions) bool {
	return opts.Stream != nil && format == "json:output" && (dest == "" || dest == "stdout" || dest == "rest")
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
