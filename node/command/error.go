package command

import (
	"fmt"
	"strings"
)

// Error is a command the parser refuses. Status is EdgeLake's status text
// where EdgeLake has one (e.g. "Error Command Structure"), Detail the
// specific reason; Pos is the byte offset in Line it points at (-1: none).
type Error struct {
	Status string
	Detail string
	Pos    int
	Line   string
}

func (e *Error) Error() string {
	switch {
	case e.Status == "":
		return e.Detail
	case e.Detail == "":
		return e.Status
	}
	return e.Status + ": " + e.Detail
}

// Caret returns the line with a caret under Pos, or "" without a position.
func (e *Error) Caret() string {
	if e.Pos < 0 || e.Line == "" || strings.Contains(e.Line, "\n") {
		return ""
	}
	pos := min(e.Pos, len(e.Line))
	return e.Line + "\n" + strings.Repeat(" ", len([]rune(e.Line[:pos]))) + "^"
}

func errAt(line string, pos int, format string, args ...any) *Error {
	return &Error{Status: "Error Command Structure", Detail: fmt.Sprintf(format, args...), Pos: pos, Line: line}
}
