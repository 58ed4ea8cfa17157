package tables

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/lakenode/lakenode/tables/schema"
)

// Value tags of the row codec (FORMAT.md). Never renumber.
const (
	tagNull  = 0
	tagInt   = 1
	tagFloat = 2
	tagStr   = 3
	tagTS    = 4
	tagFalse = 5
	tagTrue  = 6
)

// appendRow encodes values: per value a tag byte and its payload (zig-zag
// varint for int and timestamp, 8 bytes for float, uvarint length and bytes
// for strings).
func appendRow(dst []byte, vals []schema.Value) []byte {
	for _, v := range vals {
		switch v.Type {
		case schema.TypeInt:
			dst = append(dst, tagInt)
			dst = binary.AppendVarint(dst, v.I)
		case schema.TypeTimestamp:
			dst = append(dst, tagTS)
			dst = binary.AppendVarint(dst, v.I)
		case schema.TypeFloat:
			dst = append(dst, tagFloat)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F))
		case schema.TypeString:
			dst = append(dst, tagStr)
			dst = binary.AppendUvarint(dst, uint64(len(v.S)))
			dst = append(dst, v.S...)
		case schema.TypeBool:
			if v.I != 0 {
				dst = append(dst, tagTrue)
			} else {
				dst = append(dst, tagFalse)
			}
		default:
			dst = append(dst, tagNull)
		}
	}
	return dst
}

var errCorruptRow = errors.New("tables: corrupt row value")

// decodeRowMask decodes into dst (len = the schema's column count); values
// past the end of the encoding (a row written under an older, shorter
// schema) are NULL, and so are the columns whose need entry is false (their
// strings are skipped, not copied). A nil need decodes every column. Only
// strings allocate, and not when dst already holds an equal string.
func decodeRowMask(b []byte, dst schema.Row, need []bool) error {
	i := 0
	for ; i < len(dst) && len(b) > 0; i++ {
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagNull:
			dst[i] = schema.Value{}
		case tagInt, tagTS:
			x, n := varint(b)
			if n <= 0 {
				return errCorruptRow
			}
			b = b[n:]
			t := schema.TypeInt
			if tag == tagTS {
				t = schema.TypeTimestamp
			}
			dst[i] = schema.Value{Type: t, I: x}
		case tagFloat:
			if len(b) < 8 {
				return errCorruptRow
			}
			dst[i] = schema.Value{Type: schema.TypeFloat, F: math.Float64frombits(binary.LittleEndian.Uint64(b))}
			b = b[8:]
		case tagStr:
			l, n := uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errCorruptRow
			}
			if need == nil || need[i] {
				raw := b[n : n+int(l)]
				// A value equal to the one already in dst (the previous
				// row's, when a scan reuses its row) is kept: repeated
				// strings such as tsd_name then cost no allocation.
				if dst[i].Type != schema.TypeString || dst[i].S != string(raw) {
					dst[i] = schema.Value{Type: schema.TypeString, S: string(raw)}
				}
			} else {
				dst[i] = schema.Value{}
			}
			b = b[n+int(l):]
		case tagFalse:
			dst[i] = schema.Value{Type: schema.TypeBool}
		case tagTrue:
			dst[i] = schema.Value{Type: schema.TypeBool, I: 1}
		default:
			return fmt.Errorf("%w: tag %d", errCorruptRow, tag)
		}
	}
	for ; i < len(dst); i++ {
		dst[i] = schema.Value{}
	}
	return nil
}

// AppendValues encodes values with the row codec (for messages between
// nodes).
func AppendValues(dst []byte, vals []schema.Value) []byte { return appendRow(dst, vals) }

// DecodeValues decodes n values encoded by AppendValues.
func DecodeValues(b []byte, n int) (schema.Row, error) {
	row := make(schema.Row, n)
	return row, decodeRowMask(b, row, nil)
}
