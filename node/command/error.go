package command

import (
	"fmt"
	"strings"
)

// Status texts of the errors, EdgeLake's where EdgeLake has one.
const (
	statusStructure   = "Error Command Structure"
	statusWrongValue  = "Wrong value assigned to a key"
	statusMQTT        = "Error with info provided to MQTT"
	statusUnsupported = "not supported by lakenode"
)

// Error is a command the parser refuses. Status is EdgeLake's status text
// where EdgeLake has one (e.g. "Error Command Structure") or "not supported
// by lakenode"; Detail is the specific reason; Pos is the byte offset in
// Line it points at, -1 for none.
type Error struct {
	Status string
	Detail string
	Pos    int
	Line   string
}

// Error returns Status and Detail joined by ": ", or whichever is set.
func (e *Error) Error() string {
	switch {
	case e.Status == "":
		return e.Detail
	case e.Detail == "":
		return e.Status
	}
	return e.Status + ": " + e.Detail
}

// Caret returns Line (secrets redacted) and, under it, a caret at Pos (tabs repeated so the
// caret lines up), or "" when there is no position or Line spans lines.
func (e *Error) Caret() string {
	if e.Pos < 0 || e.Line == "" || strings.ContainsAny(e.Line, "\n\r") {
		return ""
	}
	// The line is shown with its secrets redacted, the caret moved with it.
	line, spans := redactSpans(e.Line)
	pos := redactPos(min(e.Pos, len(e.Line)), spans)
	var b strings.Builder
	b.WriteString(line)
	b.WriteByte('\n')
	for _, r := range line[:pos] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// errAt is an "Error Command Structure" pointing at pos.
func errAt(line string, pos int, format string, args ...any) *Error {
	return &Error{Status: statusStructure, Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
}

// unsupported is a "not supported by lakenode" error.
func unsupported(line string, pos int, format string, args ...any) *Error {
	return &Error{Status: statusUnsupported, Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
}
