"""psycopg (v3) against a lakenode node's PostgreSQL endpoint.

Usage: psycopg_client.py HOST PORT TOKEN SLOW_QUERY

Prints one JSON object: what a wrong password, a parametrised query, a
server-side prepared statement, binary results and a cancel gave.
"""
import json
import sys
import threading
import time

import psycopg

host, port, token, slow_query = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out = {}


def dsn(db, password):
    return f"host={host} port={port} dbname={db} user=tester password={password} sslmode=disable connect_timeout=10"


# A wrong password.
try:
    psycopg.connect(dsn("bench", "not-the-token")).close()
    out["wrong_password"] = "connected"
except psycopg.OperationalError as e:
    out["wrong_password"] = str(e)

with psycopg.connect(dsn("bench", token)) as conn:
    with conn.cursor() as cur:
        # A parametrised query (psycopg sends $1 with the value apart).
        cur.execute("select count(*) from ping_sensor where value >= %s", (500,))
        out["param_count"] = cur.fetchone()[0]
        # A server-side prepared statement, run three times.
        counts = []
        for v in (100, 500, 900):
            cur.execute("select count(*) from ping_sensor where value >= %s", (v,), prepare=True)
            counts.append(cur.fetchone()[0])
        out["prepared_counts"] = counts
    # Binary results: the values come typed.
    with conn.cursor(binary=True) as cur:
        cur.execute('select device_name, "timestamp", value from ping_sensor order by "timestamp" limit 3')
        rows = cur.fetchall()
        out["binary_types"] = [type(v).__name__ for v in rows[0]]
        out["binary_first"] = [rows[0][0], rows[0][1].isoformat(), rows[0][2]]

# A cancel of a long query, from another thread.
with psycopg.connect(dsn("slow", token)) as conn:
    result = {}

    def run():
        t0 = time.monotonic()
        try:
            conn.execute(slow_query)
            result["outcome"] = "finished"
        except psycopg.errors.QueryCanceled as e:
            result["outcome"] = "canceled"
            result["sqlstate"] = e.sqlstate
        except psycopg.Error as e:
            result["outcome"] = f"error: {e}"
        result["seconds"] = time.monotonic() - t0

    th = threading.Thread(target=run)
    th.start()
    # A cancel request that comes before the query reaches the server is
    # dropped, as PostgreSQL drops it: ask again every half second until
    # the query ends (at most a minute).
    deadline = time.monotonic() + 60
    while th.is_alive() and time.monotonic() < deadline:
        th.join(0.5)
        if th.is_alive():
            conn.cancel_safe()
    th.join(60)
    out["cancel"] = result

print(json.dumps(out))
