// Command kfakebroker runs franz-go's kfake Kafka-protocol broker as a
// process of its own, for lakenode's integration tests: killing a node under
// test must not kill its broker.
//
//	kfakebroker -listen 127.0.0.1:0 [-data-dir DIR] [-partitions 4]
//
// It prints "listening on HOST:PORT" once ready and stops on SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (127.0.0.1 only)")
	dataDir := flag.String("data-dir", "", "keep records in this directory (a restart keeps them)")
	partitions := flag.Int("partitions", 4, "partitions of auto-created topics")
	flag.Parse()
	_, portS, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(2)
	}
	port, _ := strconv.Atoi(portS)
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		kfake.ClusterID("lakenode-test-kfake"),
		kfake.GroupMaxSessionTimeout(5 * time.Minute),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	c.Close()
}
