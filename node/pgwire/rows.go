package pgwire

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/lakenode/lakenode/tables/schema"
)

// rowSink sends an answer's rows as DataRow messages.
type rowSink struct {
	s *session
	// sendDesc sends a RowDescription when the columns are known (the
	// simple protocol, and Describe).
	sendDesc bool
	formats  []int16 // result formats (none: all text; one: for all)
	oids     []uint32
	n        int64
	unsent   int // bytes sent since the last flush
	buf      []byte
	vals     [][]byte
}

// flushEvery is how many bytes of rows go out before a flush, so that a
// long answer streams instead of growing in memory.
const flushEvery = 64 << 10

func (w *rowSink) Columns(cols []Column) error {
	w.oids = make([]uint32, len(cols))
	for i, c := range cols {
		w.oids[i] = oidOf(c.Type)
	}
	if w.sendDesc {
		w.s.be.Send(rowDescription(cols, w.formats))
	}
	return nil
}

func (w *rowSink) format(i int) int16 {
	switch len(w.formats) {
	case 0:
		return 0
	case 1:
		return w.formats[0]
	}
	if i < len(w.formats) {
		return w.formats[i]
	}
	return 0
}

func (w *rowSink) Row(r schema.Row) error {
	w.buf = w.buf[:0]
	if cap(w.vals) < len(r) {
		w.vals = make([][]byte, len(r))
	}
	w.vals = w.vals[:len(r)]
	// Encode every value into one buffer first, then slice it: the
	// buffer may move while it grows.
	ends := make([]int, len(r))
	for i, v := range r {
		oid := uint32(oidText)
		if i < len(w.oids) {
			oid = w.oids[i]
		}
		if v.IsNull() {
			ends[i] = -1
			continue
		}
		if w.format(i) == 1 {
			w.buf = appendBinary(w.buf, oid, v)
		} else {
			w.buf = appendText(w.buf, oid, v, w.s.loc)
		}
		ends[i] = len(w.buf)
	}
	start := 0
	for i := range r {
		if ends[i] < 0 {
			w.vals[i] = nil
			continue
		}
		w.vals[i] = w.buf[start:ends[i]]
		start = ends[i]
	}
	w.s.be.Send(&pgproto3.DataRow{Values: w.vals})
	w.n++
	w.unsent += len(w.buf) + 4*len(r) + 7
	if w.unsent >= flushEvery {
		w.unsent = 0
		return w.s.flush()
	}
	return nil
}

func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		oid := oidOf(c.Type)
		f := int16(0)
		switch {
		case len(formats) == 1:
			f = formats[0]
		case i < len(formats):
			f = formats[i]
		}
		fields[i] = pgproto3.FieldDescription{Name: []byte(c.Name), DataTypeOID: oid, DataTypeSize: typeSize(oid), TypeModifier: -1, Format: f}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// bufferedRows holds an answer an Execute with a row limit hands out in
// parts (the portal is suspended between them).
type bufferedRows struct {
	cols []Column
	rows []schema.Row
	next int
}

func (b *bufferedRows) Columns(cols []Column) error {
	b.cols = cols
	return nil
}

func (b *bufferedRows) Row(r schema.Row) error {
	b.rows = append(b.rows, append(schema.Row(nil), r...))
	return nil
}
