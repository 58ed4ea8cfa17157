// Package actors holds lakenode's actors and the plain logic they wrap:
// the consumer of one `run kafka consumer` command, a partition actor per
// assigned partition (decode, map, send row batches), a table actor per
// table (the only writer of its table: batches, group commit, acks), and
// export jobs.
//
// Data flows one way: Kafka fetch -> partition actor -> RowBatch -> table
// actor -> one synced Pebble batch holding the rows and the table's next
// offset for every partition that fed it -> BatchAck -> the partition
// advances its low-water mark and marks it for the group commit.
//
// The decisions live in plain structs (tableWriter, partitionCore) that are
// tested without an actor system; the actors only route messages to them.
//
// # Supervision
//
// SpawnTree starts one tree (see tree.go for the drawing):
//
//   - node (nodeRoot) restarts a failed supervisor; the supervisor's
//     children stop with it and are rebuilt from durable state.
//   - consumers restarts a failed consumer actor (restartStrategy: a fresh
//     instance, which starts a new Kafka client from the durable offsets);
//     more than 5 failures within a minute stop it, shown as stopped.
//   - a consumer stops a failed partition actor (stopStrategy) and restarts
//     its Kafka client, and with it every partition, from the low-water
//     marks, with backoff (1 s, 2 s, ... 10 s); more than 5 client
//     failures within a minute stop the consumer's client and partitions
//     and leave it "stopped" with the last error until `exit kafka`.
//   - tables (the catalog) restarts a failed table writer
//     (restartStrategy); the restarted writer knows no session, so batches
//     that follow a lost one are refused, and the old instance's Restarting
//     case answers every batch it had not committed with an error: the
//     feeding partitions restart from their durable offsets, and the store
//     skips records below each table's stored offset, so nothing is lost
//     or applied twice. More than 5 failures a minute stop the writer; its
//     table then refuses writes (ErrWriterStopped) and the partitions
//     feeding it halt before the first record for it.
//   - jobs stops a failed export (stopStrategy); its Stopping case tells
//     the asker, who is never left waiting, and nothing is retried behind
//     its back.
//
// Every Props producer returns a new instance, each actor releases what it
// holds in its Stopping (and Restarting) case, and a RowBatch that reaches
// no writer (a dead letter) is answered with an error by the tree.
//
// No Receive waits on the network, a semaphore or another actor, with
// these exceptions kept on purpose: a table writer's own Pebble commit, a
// partition's write of its low-water mark, and the first lookup of a table
// by a partition (a request to the catalog, which only writes the schema;
// its result is cached for the partition's life). The dead-letter produce
// and exports run in workers (startWork) whose results come back as
// messages; decode permits (threads = N) are messages from the consumer.
package actors
