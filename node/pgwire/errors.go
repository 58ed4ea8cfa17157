package pgwire

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	lsql "github.com/lakenode/lakenode/tables/sql"
)

// SQLSTATE codes lakenode sends.
const (
	codeSyntax         = "42601"
	codeUndefinedTable = "42P01"
	codeUndefinedCol   = "42703"
	codeRuleViolation  = "42000"
	codeNotSupported   = "0A000"
	codeReadOnly       = "25006"
	codeCanceled       = "57014"
	codeTooComplex     = "54001"
	codeTooLong        = "54000"
	codeProtocol       = "08P01"
	codeInvalidPass    = "28P01"
	codeInvalidAuth    = "28000"
	codeTooManyConns   = "53300"
	codeInvalidParam   = "22023"
	codeDataException  = "22000"
	codeIdleTimeout    = "57P05"
	codeInvalidCatalog = "3D000"
	codeInternal       = "XX000"
	codeUnknownStmt    = "26000"
	codeUnknownPortal  = "34000"
)

// pgError is an error for the client: a SQLSTATE code, a message and,
// where known, a 1-based character position in the client's statement.
type pgError struct {
	Code     string
	Msg      string
	Position int32
	Hint     string
}

func (e *pgError) Error() string { return e.Msg }

func (e *pgError) response() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: e.Code, Message: e.Msg, Position: e.Position, Hint: e.Hint}
}

func errorf(code, msg string) *pgError { return &pgError{Code: code, Msg: msg} }

// toPG turns an engine's or this package's error into one for the client;
// tr maps a position in the translated statement back to the client's text
// (a character position, 1-based, as PostgreSQL sends it).
func toPG(err error, src string, tr *translated) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	var de *dialectError
	if errors.As(err, &de) {
		return &pgError{Code: codeSyntax, Msg: de.Msg, Position: charPos(src, de.Pos)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "query canceled") {
		return &pgError{Code: codeCanceled, Msg: "canceling statement due to user request: " + err.Error()}
	}
	var se *lsql.Error
	if errors.As(err, &se) {
		out := &pgError{Code: sqlCode(se), Msg: se.Msg}
		if se.Pos >= 0 && tr != nil {
			out.Position = charPos(src, tr.sourcePos(se.Pos))
		}
		return out
	}
	var tm *lsql.TooManyRowsError
	if errors.As(err, &tm) {
		return &pgError{Code: codeTooLong, Msg: err.Error(), Hint: "add a limit, or fetch the rows in parts"}
	}
	return &pgError{Code: codeInternal, Msg: err.Error()}
}

func sqlCode(e *lsql.Error) string {
	m := strings.ToLower(e.Msg)
	switch {
	case errors.Is(e, lsql.ErrStatementTooLong):
		return codeTooLong
	case errors.Is(e, lsql.ErrTooDeep):
		return codeTooComplex
	case strings.HasPrefix(m, "unknown table"):
		return codeUndefinedTable
	case strings.HasPrefix(m, "unknown column"):
		return codeUndefinedCol
	case strings.Contains(m, "syntax"):
		return codeSyntax
	case strings.Contains(m, "not supported") || strings.Contains(m, "unsupported"):
		return codeNotSupported
	}
	return codeRuleViolation
}

// charPos is the 1-based character position of byte offset p in s.
func charPos(s string, p int) int32 {
	if p < 0 {
		return 0
	}
	p = min(p, len(s))
	return int32(len([]rune(s[:p]))) + 1
}
