package tables

import (
	"encoding/binary"
	"math/bits"
)

// uvarint is binary.Uvarint, reading eight bytes at a time when it can: a
// row's timestamps are eight-byte varints, and the byte-at-a-time loop
// was a tenth of a seal's CPU. Same results for every input (fuzzed).
func uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1 // a string's length, mostly
	}
	if len(b) < 8 {
		return binary.Uvarint(b)
	}
	w := binary.LittleEndian.Uint64(b)
	stop := ^w & 0x8080808080808080 // the bytes that end a varint
	if stop == 0 {
		return binary.Uvarint(b) // nine or ten bytes
	}
	n := bits.TrailingZeros64(stop)/8 + 1
	w &= (uint64(1)<<(8*n) - 1) & 0x7f7f7f7f7f7f7f7f
	// Pack the 7-bit groups: pairs, then fours, then the eight.
	w = w&0x007f007f007f007f | (w&0x7f007f007f007f00)>>1
	w = w&0x00003fff00003fff | (w&0x3fff00003fff0000)>>2
	w = w&0x000000000fffffff | (w&0x0fffffff00000000)>>4
	return w, n
}

// varint is binary.Varint over uvarint.
func varint(b []byte) (int64, int) {
	ux, n := uvarint(b)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}
