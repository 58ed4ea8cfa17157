package tables

import (
	"bytes"
	"testing"
)

func FuzzRowKey(f *testing.F) {
	f.Add(uint32(1), int64(0), uint32(1), int32(0), int64(0), int32(0))
	f.Add(uint32(7), int64(-5), uint32(2), int32(3), int64(1<<40), int32(9))
	f.Add(uint32(1<<31), int64(1<<62), uint32(0), int32(-1), int64(-1), int32(-7))
	f.Fuzz(func(t *testing.T, table uint32, tm int64, src uint32, partition int32, offset int64, elem int32) {
		k := appendRowKey(nil, table, tm, src, partition, offset, elem)
		got, err := decodeRowKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if got != (rowKey{table, tm, src, partition, offset, elem}) {
			t.Fatalf("round trip %+v", got)
		}
		// Order: a later time in the same table sorts after, whatever
		// follows it in the key.
		if tm < 1<<62 {
			later := appendRowKey(nil, table, tm+1, 0, 0, 0, 0)
			if bytes.Compare(k, later) >= 0 {
				t.Fatalf("time %d does not sort before %d", tm, tm+1)
			}
		}
		lo, hi := tablePrefix(table), tableEnd(table)
		if table < 1<<32-1 && (bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) >= 0) {
			t.Fatalf("key outside its table's range")
		}
		if b := rowTimeBound(table, tm); bytes.Compare(b, k) > 0 {
			t.Fatalf("time bound after the key")
		}
	})
}

func TestDecodeRowKeyRejectsGarbage(t *testing.T) {
	for _, k := range [][]byte{nil, []byte("r/"), []byte("x/0123456789012345678901234567890123")} {
		if _, err := decodeRowKey(k); err == nil {
			t.Errorf("%q decoded", k)
		}
	}
}
