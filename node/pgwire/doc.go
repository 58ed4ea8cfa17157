// Package pgwire speaks the PostgreSQL wire protocol (version 3) for a
// lakenode node, so that psql, Grafana's PostgreSQL data source, pgx,
// psycopg and other SQL clients connect with no plugin.
//
// The protocol's messages are github.com/jackc/pgx/v5/pgproto3's; this
// package holds the session logic only: start-up and authentication
// (trust on loopback without a token, the token as the password —
// cleartext over TLS or loopback, SCRAM-SHA-256 otherwise), the simple and
// extended query protocols, text and binary formats for lakenode's five
// types, errors with SQLSTATE codes and positions, cancel requests, and a
// translation of PostgreSQL's dialect (double-quoted identifiers, $n
// parameters, interval '1 day') into the text lakenode's SQL reads.
//
// What runs a query is an Engine, which the node provides; a Server holds
// the connections.
package pgwire
