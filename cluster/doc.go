// Package cluster holds what lets lakenode nodes work together: membership
// (heartbeats over remote actor messages to the seeds and to the peers
// learned through them), the table directory (which live or lost peer hosts
// which dbms.table, learned from those heartbeats) and the remote calls
// between nodes (a request that the asker can cancel, carrying how long it
// waits). It imports only actors/actorpb, protoactor and the standard
// library; the node composes it, and the query actors use it to reach the
// peers of a run client () query.
//
// cluster/local starts several node processes on one machine for
// `lakenode cluster up`; cluster/clustertest runs nodes inside a test
// process and runs the SQL behaviour scripts on them.
package cluster
