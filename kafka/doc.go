// Package kafka is lakenode's only importer of franz-go: the consumer client
// that feeds partition actors, the producer for dead-letter topics and result
// exports, and the embedded Kafka-protocol broker (kfake) for demos and tests.
//
// The mapping language lives in kafka/mapping, the parsed command in
// kafka/spec. This package never imports Pebble.
package kafka
