// Package kafkatest runs Kafka brokers for lakenode's tests, each in a process
// of its own so that killing a node under test leaves its broker running:
// franz-go's kfake (the kfakebroker command next to this package, built once
// per test binary) or Apache Kafka 4.4.0 in KRaft mode from the jars that
// `make kafka-jars` resolves with Maven (kafka/kafkatest/maven/pom.xml).
//
// Both kinds listen on 127.0.0.1 only and are configured the way lakenode's
// consumer expects: topics are auto-created with 4 partitions, the offsets and
// transaction topics have replication factor 1, consumer groups rebalance
// without an initial delay, and sessions of up to 5 minutes are allowed.
//
// An integration test package shares one broker per test binary:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//
//	func TestIngest(t *testing.T) {
//		b := kafkatest.Shared(t)
//		kafkatest.CreateTopic(t, b, "ingest", 4)
//		kafkatest.Produce(t, b, "ingest", []byte(`{"v":1}`))
//		...
//	}
//
// Main stops the shared broker after the tests ran. A test that stops, kills
// or restarts its broker must not use the shared one; it starts its own with
// FromEnv, StartKfake or StartApache, which is stopped at the end of the test.
//
// The environment picks the broker of Shared and FromEnv:
//
//	LAKENODE_TEST_KAFKA=host:port     an already running broker ("external")
//	LAKENODE_TEST_BROKER=kfake|apache the kind to start (default kfake)
//	LAKENODE_KAFKA_LIBS=DIR           the Apache Kafka jars (`make kafka-jars`)
//
// A relative LAKENODE_KAFKA_LIBS is taken relative to the module root.
package kafkatest
