package tables

import (
	"encoding/binary"
	"errors"
)

// Key prefixes; tables/FORMAT.md describes each key and value.
const (
	prefixFormat  = 'm' // m/format -> format version
	prefixCatalog = 'c' // c/<dbms>\x00<table> -> schema
	prefixSource  = 's' // s/<cluster id>\x00<topic id> -> source id
	prefixStats   = 't' // t/<table id> -> table stats
	prefixOffset  = 'o' // o/<table id><src><partition> -> next offset the table applied
	prefixLWM     = 'p' // p/<src><partition> -> partition low-water mark
	prefixRow     = 'r' // r/<table id><time><src><partition><offset><elem> -> row
	prefixHeader  = 'h' // h/<table id><max time><block id> -> sealed block header
	prefixBody    = 'b' // b/<table id><block id> -> sealed block columns
)

var formatKey = []byte("m/format")

func catalogKey(dbms, table string) []byte {
	k := make([]byte, 0, 3+len(dbms)+len(table))
	k = append(k, prefixCatalog, '/')
	k = append(k, dbms...)
	k = append(k, 0)
	return append(k, table...)
}

func sourceKey(cluster, topic string) []byte {
	k := make([]byte, 0, 3+len(cluster)+len(topic))
	k = append(k, prefixSource, '/')
	k = append(k, cluster...)
	k = append(k, 0)
	return append(k, topic...)
}

func statsKey(table uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixStats, '/'}, table)
}

func offsetKey(table, src uint32, partition int32) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixOffset, '/'}, table)
	k = binary.BigEndian.AppendUint32(k, src)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

func lwmKey(src uint32, partition int32) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixLWM, '/'}, src)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

// rowKeyLen is the length of a row key.
const rowKeyLen = 2 + 4 + 8 + 4 + 4 + 8 + 4

// appendRowKey appends r/<table><time><src><partition><offset><elem>; time
// is sign-flipped so that negative times sort first.
func appendRowKey(dst []byte, table uint32, time int64, src uint32, partition int32, offset int64, elem int32) []byte {
	dst = append(dst, prefixRow, '/')
	dst = binary.BigEndian.AppendUint32(dst, table)
	dst = binary.BigEndian.AppendUint64(dst, uint64(time)^(1<<63))
	dst = binary.BigEndian.AppendUint32(dst, src)
	dst = binary.BigEndian.AppendUint32(dst, uint32(partition))
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset)^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(elem))
}

// rowKey is a decoded row key.
type rowKey struct {
	table     uint32
	time      int64
	src       uint32
	partition int32
	offset    int64
	elem      int32
}

var errBadKey = errors.New("tables: malformed row key")

func decodeRowKey(k []byte) (rowKey, error) {
	if len(k) != rowKeyLen || k[0] != prefixRow || k[1] != '/' {
		return rowKey{}, errBadKey
	}
	k = k[2:]
	return rowKey{
		table:     binary.BigEndian.Uint32(k[0:]),
		time:      int64(binary.BigEndian.Uint64(k[4:]) ^ (1 << 63)),
		src:       binary.BigEndian.Uint32(k[12:]),
		partition: int32(binary.BigEndian.Uint32(k[16:])),
		offset:    int64(binary.BigEndian.Uint64(k[20:]) ^ (1 << 63)),
		elem:      int32(binary.BigEndian.Uint32(k[28:])),
	}, nil
}

// rowTimeBound returns the key bounding rows of table at time t: every row
// of the table at time >= t sorts at or after it.
func rowTimeBound(table uint32, t int64) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixRow, '/'}, table)
	return binary.BigEndian.AppendUint64(k, uint64(t)^(1<<63))
}

// tablePrefix is r/<table>; tableEnd is the first key after every row of it.
func tablePrefix(table uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixRow, '/'}, table)
}

func tableEnd(table uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixRow, '/'}, table+1)
}

// headerKey is h/<table><max time><block id>: a table's headers in order of
// their blocks' last row time, so that a scan from time t seeks to the
// first block that can hold a row at or after t.
func headerKey(table uint32, maxTime int64, id uint64) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixHeader, '/'}, table)
	k = binary.BigEndian.AppendUint64(k, uint64(maxTime)^(1<<63))
	return binary.BigEndian.AppendUint64(k, id)
}

// headerTimeBound bounds the headers of blocks whose max time is >= t.
func headerTimeBound(table uint32, t int64) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixHeader, '/'}, table)
	return binary.BigEndian.AppendUint64(k, uint64(t)^(1<<63))
}

func bodyKey(table uint32, id uint64) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixBody, '/'}, table)
	return binary.BigEndian.AppendUint64(k, id)
}

// tableRange is [p/<table>, p/<table+1>) for a per-table prefix p.
func tableRange(p byte, table uint32) (lo, hi []byte) {
	return binary.BigEndian.AppendUint32([]byte{p, '/'}, table), binary.BigEndian.AppendUint32([]byte{p, '/'}, table+1)
}
