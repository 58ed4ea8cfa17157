package spec

// Compression codecs of an export's records (`compression = ...` beside
// dest = kafka@...). The default, none, is readable by every Kafka client
// without optional packages, as the default of a stock producer is.
const (
	CompressionNone = "none"
	CompressionList = "none, gzip, snappy, lz4 or zstd"
)

// Compressions are the codecs an export accepts.
var Compressions = map[string]bool{"none": true, "gzip": true, "snappy": true, "lz4": true, "zstd": true}
