// Package cluster holds what lets lakenode nodes work together. Membership
// is run by each node (see node: --seeds, get nodes): heartbeats over remote
// actor messages to the seeds and to the peers learned through them; cluster/local starts several node processes on one machine for
// `lakenode cluster up`; cluster/clustertest runs nodes inside a test
// process and runs the SQL behaviour scripts on them.
package cluster
