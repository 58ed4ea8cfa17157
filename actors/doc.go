// Package actors holds lakenode's actors and the plain logic they wrap:
// the consumer of one `run kafka consumer` command, a partition actor per
// assigned partition (decode, map, send row batches), and a table actor per
// table (the only writer of its table: batches, group commit, acks).
//
// Data flows one way: Kafka fetch -> partition actor -> RowBatch -> table
// actor -> one synced Pebble batch holding the rows and the table's next
// offset for every partition that fed it -> BatchAck -> the partition
// advances its low-water mark and marks it for the group commit.
//
// The decisions live in plain structs (tableWriter, partitionCore) that are
// tested without an actor system; the actors only route messages to them.
package actors
