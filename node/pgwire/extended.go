package pgwire

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"
)

// extended answers a message of the extended query protocol.
func (s *session) extended(ctx context.Context, msg pgproto3.FrontendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.Parse:
		return s.parse(ctx, m)
	case *pgproto3.Bind:
		return s.bind(m)
	case *pgproto3.Describe:
		return s.describeMsg(ctx, m)
	case *pgproto3.Execute:
		return s.execute(ctx, m)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(s.stmts, m.Name)
		} else {
			delete(s.portals, m.Name)
		}
		s.be.Send(&pgproto3.CloseComplete{})
	}
	return nil
}

// maxParams bounds a statement's parameters, as PostgreSQL's protocol does.
const maxParams = 65535

func (s *session) parse(ctx context.Context, m *pgproto3.Parse) error {
	if len(splitStatements(m.Query)) > 1 {
		return &pgError{Code: codeSyntax, Msg: "cannot insert multiple commands into a prepared statement"}
	}
	n := highestParam(m.Query)
	if n > maxParams {
		return &pgError{Code: codeTooLong, Msg: fmt.Sprintf("too many parameters: $%d", n)}
	}
	if len(m.ParameterOIDs) > n {
		n = len(m.ParameterOIDs)
	}
	oids := make([]uint32, n)
	copy(oids, m.ParameterOIDs)
	s.inferParams(ctx, m.Query, oids)
	if kind, tag := classify(m.Query); kind == kindWrite {
		return &pgError{Code: codeReadOnly, Msg: fmt.Sprintf("cannot execute %s in a read-only transaction: lakenode's tables are written by its Kafka consumers", tag)}
	}
	s.stmts[m.Name] = &prepared{text: m.Query, oids: oids, nparam: n}
	s.be.Send(&pgproto3.ParseComplete{})
	return nil
}

// highestParam is the highest $n of a statement outside strings,
// identifiers and comments.
func highestParam(q string) int {
	// translate with many parameters tells where they are; cheaper to
	// scan the same way it does.
	high := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			end, _, err := scanQuoted(q, i, c)
			if err != nil {
				return high
			}
			i = end - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '$':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if n, err := strconv.Atoi(q[i+1 : j]); err == nil && n > high {
				high = n
			}
			i = j - 1
		}
	}
	return high
}

func (s *session) bind(m *pgproto3.Bind) error {
	st, ok := s.stmts[m.PreparedStatement]
	if !ok {
		return &pgError{Code: codeUnknownStmt, Msg: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if len(m.Parameters) != st.nparam {
		return &pgError{Code: codeProtocol, Msg: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, st.nparam)}
	}
	params := make([]string, len(m.Parameters))
	for i, raw := range m.Parameters {
		f := int16(0)
		switch {
		case len(m.ParameterFormatCodes) == 1:
			f = m.ParameterFormatCodes[0]
		case i < len(m.ParameterFormatCodes):
			f = m.ParameterFormatCodes[i]
		}
		lit, err := paramLiteral(st.oids[i], f, raw)
		if err != nil {
			return &pgError{Code: "22P02", Msg: fmt.Sprintf("parameter $%d: %v", i+1, err)}
		}
		params[i] = lit
	}
	s.portals[m.DestinationPortal] = &portal{stmt: st, params: params, formats: append([]int16(nil), m.ResultFormatCodes...)}
	s.be.Send(&pgproto3.BindComplete{})
	return nil
}

func (s *session) describeMsg(ctx context.Context, m *pgproto3.Describe) error {
	if m.ObjectType == 'S' {
		st, ok := s.stmts[m.Name]
		if !ok {
			return &pgError{Code: codeUnknownStmt, Msg: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		oids := make([]uint32, len(st.oids))
		for i, o := range st.oids {
			if o == 0 {
				// No declared type: described as text, so that clients
				// send it as text; paramLiteral reads numbers from it.
				o = oidText
			}
			oids[i] = o
		}
		cols, err := s.describe(ctx, st)
		if err != nil {
			return err
		}
		s.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		return s.sendDescription(cols, nil)
	}
	p, ok := s.portals[m.Name]
	if !ok {
		return &pgError{Code: codeUnknownPortal, Msg: fmt.Sprintf("portal %q does not exist", m.Name)}
	}
	cols, err := s.describe(ctx, p.stmt)
	if err != nil {
		return err
	}
	p.cols = cols
	return s.sendDescription(cols, p.formats)
}

func (s *session) sendDescription(cols []Column, formats []int16) error {
	if cols == nil {
		s.be.Send(&pgproto3.NoData{})
		return nil
	}
	s.be.Send(rowDescription(cols, formats))
	return nil
}

func (s *session) execute(ctx context.Context, m *pgproto3.Execute) error {
	p, ok := s.portals[m.Portal]
	if !ok {
		return &pgError{Code: codeUnknownPortal, Msg: fmt.Sprintf("portal %q does not exist", m.Portal)}
	}
	if p.buffered != nil {
		return s.sendBuffered(p, m.MaxRows)
	}
	sink := &rowSink{s: s, formats: p.formats}
	if m.MaxRows == 0 {
		tag, err := s.statement(ctx, p.stmt.text, p.params, sink)
		if err != nil {
			return err
		}
		s.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return nil
	}
	p.buffered = &bufferedRows{}
	tag, err := s.statement(ctx, p.stmt.text, p.params, p.buffered)
	if err != nil {
		p.buffered = nil
		return err
	}
	if kind, _ := classify(p.stmt.text); kind != kindQuery && kind != kindShow && kind != kindExplain {
		s.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return nil
	}
	return s.sendBuffered(p, m.MaxRows)
}

// sendBuffered sends up to max of a portal's buffered rows, then
// PortalSuspended, or the rest and CommandComplete.
func (s *session) sendBuffered(p *portal, max uint32) error {
	b := p.buffered
	sink := &rowSink{s: s, formats: p.formats}
	_ = sink.Columns(b.cols)
	n := len(b.rows) - b.next
	if max > 0 && int(max) < n {
		n = int(max)
	}
	for _, r := range b.rows[b.next : b.next+n] {
		if err := sink.Row(r); err != nil {
			return err
		}
	}
	b.next += n
	if b.next < len(b.rows) {
		s.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	s.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.Itoa(len(b.rows)))})
	return nil
}
