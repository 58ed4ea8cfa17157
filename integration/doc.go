// Package integration holds lakenode's end-to-end tests: real lakenode
// processes (the binary named by LAKENODE_BIN, built by `make integration`)
// on random loopback ports, against a real broker in its own process —
// franz-go's kfake or Apache Kafka, chosen by LAKENODE_TEST_BROKER, or an
// existing one named by LAKENODE_TEST_KAFKA.
package integration
