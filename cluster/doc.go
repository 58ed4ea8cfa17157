// Package cluster holds what lets lakenode nodes work together. Membership
// today is a static seed list run by each node (see node: --seeds, get
// nodes); cluster/local starts several node processes on one machine for
// `lakenode cluster up`.
package cluster
