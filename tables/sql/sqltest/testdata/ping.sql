# The ping_sensor workload of the seed: devices, times, integer values.
load lsl_demo.ping_sensor device_name:str timestamp:timestamp value:int
dev-a | 2026-11-25T11:30:00Z | 10
dev-b | 2026-11-25T11:00:00Z | 20
dev-a | 2026-11-25T09:15:00Z | 30
dev-c | 2026-11-25T02:00:00Z | NULL
dev-b | 2026-11-24T20:00:00Z | 40
dev-a | 2026-11-23T12:00:00Z | 50

query lsl_demo
select count(*), count(value), sum(value), avg(value), min(value), max(value), range(value) from ping_sensor
----
count(*) | count(value) | sum(value) | avg(value) | min(value) | max(value) | range(value)
6 | 5 | 150 | 30.0 | 10 | 50 | 40

# The seed's query as written, stray comma and all.
query lsl_demo
select device_name, timestamp, value, from ping_sensor where timestamp > now() - 1 day limit 10
----
device_name | timestamp | value
dev-b | 2026-11-24 20:00:00.000000 | 40
dev-c | 2026-11-25 02:00:00.000000 | NULL
dev-a | 2026-11-25 09:15:00.000000 | 30
dev-b | 2026-11-25 11:00:00.000000 | 20
dev-a | 2026-11-25 11:30:00.000000 | 10

query lsl_demo
select device_name, count(*) as n, max(value) from ping_sensor group by device_name having n > 1 order by n desc, device_name
----
device_name | n | max(value)
dev-a | 3 | 50
dev-b | 2 | 40

query lsl_demo
select increments(hour, 12, timestamp), min(timestamp), count(*) from ping_sensor where timestamp >= now() - interval '2 days'
----
min(timestamp) | count(*)
2026-11-23 12:00:00.000000 | 1
2026-11-24 20:00:00.000000 | 1
2026-11-25 02:00:00.000000 | 4

# GROUP BY naming increments(), by position or as written, groups as
# increments() does on its own.
query lsl_demo
select increments(hour, 12, timestamp), count(*) from ping_sensor where timestamp >= now() - interval '2 days' group by 1
----
count(*)
1
1
4

query lsl_demo
select increments(hour, 12, timestamp), count(*) from ping_sensor where timestamp >= now() - interval '2 days' group by increments(hour, 12, timestamp)
----
count(*)
1
1
4

query lsl_demo
select count(*), max(value) from ping_sensor group by increments(day, 1, timestamp)
----
count(*) | max(value)
1 | 50
1 | 40
4 | 30

query lsl_demo
select increments(hour, 12, timestamp), device_name, count(*) from ping_sensor where timestamp >= now() - interval '2 days' group by 1, 2
----
device_name | count(*)
dev-a | 1
dev-b | 1
dev-a | 2
dev-b | 1
dev-c | 1

query lsl_demo
select device_name, count(*) from ping_sensor group by 2
----
error: GROUP BY 2 names an aggregate (count(*)); group by a column or an expression

query lsl_demo
select distinct device_name from ping_sensor where value is null or value between 25 and 45 order by 1
----
device_name
dev-a
dev-b
dev-c

query lsl_demo
select value::float / 4, date_trunc('day', timestamp), extract(hour from timestamp) from ping_sensor where device_name like 'DEV-B' order by timestamp desc limit 1
----
value::float / 4 | date_trunc('day', timestamp) | extract(hour from timestamp)
5.0 | 2026-11-25 00:00:00.000000 | 11

query lsl_demo
select device from ping_sensor
----
error: unknown column 'device'; did you mean 'device_name'?

# period(): the 3 hours up to the last row at or before noon (11:30).
query lsl_demo
select count(*), min(timestamp), max(timestamp) from ping_sensor where period(hour, 3, now(), timestamp)
----
count(*) | min(timestamp) | max(timestamp)
3 | 2026-11-25 09:15:00.000000 | 2026-11-25 11:30:00.000000

query lsl_demo
select count(*) from ping_sensor where period(day, 1, '2026-11-24 23:00:00', timestamp) and value > 0
----
count(*)
1

# A string that reads as a number compares as one with a number (SQLite's
# numeric affinity; PostgreSQL clients binding parameters client-side send
# `value > '25'`).
query lsl_demo
select count(*) from ping_sensor where value > '25' and value between '10' and '45' and value in ('30', 40)
----
count(*)
2

# What Grafana's PostgreSQL data source sends for a time-series panel:
# $__timeGroupAlias(timestamp, 1h) and $__timeFilter(timestamp) as its
# macros expand them (macros.go of Grafana's postgres data source).
query lsl_demo
SELECT floor(extract(epoch from timestamp)/3600)*3600 AS time, avg(value) AS value FROM ping_sensor WHERE timestamp BETWEEN '2026-11-25T00:00:00Z' AND '2026-11-25T12:00:00Z' GROUP BY 1 ORDER BY 1
----
time | value
1795572000.0 | NULL
1795597200.0 | 30.0
1795604400.0 | 15.0
