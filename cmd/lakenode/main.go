// Command lakenode runs a lakenode node: a Kafka-to-SQL edge node that
// speaks EdgeLake's command language.
//
//	lakenode [--data-dir DIR] [--name NAME] [--http HOST:PORT] [--listen HOST:PORT]
//	         [--kafka-embedded HOST:PORT] [-f FILE] [-c CMD]... [--serve]
//	         [--log-level L] [--log-file F]
//	lakenode --version
//	lakenode demo
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
