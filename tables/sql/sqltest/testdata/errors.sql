# lakenode.kafka_errors has columns named partition and offset, reserved
# words of the MySQL dialect: they work unquoted and quoted, and a quoted
# column comes back under its own name.
load lakenode.kafka_errors consumer_id:str topic:str partition:int offset:int reason:str received_at:timestamp message:str
1 | ping | 0 | 17 | not_json | 2026-11-25T11:00:00Z | {'a': 1}
1 | ping | 1 | 4 | type_mismatch | 2026-11-25T11:30:00Z | {"value": "x"}
1 | ping | 1 | 9 | missing_column | 2026-11-25T11:45:00Z | {}

query lakenode
select partition, offset, reason from kafka_errors where partition = 1 order by offset
----
partition | offset | reason
1 | 4 | type_mismatch
1 | 9 | missing_column

query lakenode
select `partition`, `offset` from kafka_errors order by `offset` desc limit 1
----
partition | offset
0 | 17

query lakenode
select offset from kafka_errors order by offset limit 1 offset 1
----
offset
9

query lakenode
select partition, count(*) from kafka_errors group by partition order by partition
----
partition | count(*)
0 | 1
1 | 2
