// Package cluster holds what lets lakenode nodes work together. Membership
// today is a static seed list run by each node (see node: --seeds, get
// nodes); cluster/local starts several node processes on one machine for
// `lakenode cluster up`; cluster/clustertest runs nodes inside a test
// process and runs the SQL behaviour scripts on them.
package cluster
