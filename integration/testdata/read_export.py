"""Reads every message of a topic with kafka-python, as a user's script would.

    read_export.py BOOTSTRAP TOPIC ISOLATION TIMEOUT_S

ISOLATION is read_uncommitted or read_committed. It reads each partition from
its start to its end offset (the last stable offset for read_committed) and
prints one JSON document: {"messages": [{"partition", "offset", "key",
"value"}...]} with key and value as text (key null when absent), or
{"error": "ExceptionName: text"} when reading fails, e.g. on a compression
codec that needs an optional package.
"""
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def main():
    bootstrap, topic, isolation, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    deadline = time.monotonic() + timeout
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level=isolation,
        enable_auto_commit=False,
        group_id=None,
    )
    try:
        parts = None
        while not parts:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                if time.monotonic() > deadline:
                    raise TimeoutError("no metadata for topic " + topic)
                time.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                left = {tp.partition: (consumer.position(tp), ends[tp]) for tp in tps}
                raise TimeoutError("positions short of the end offsets: %r" % left)
            for tp, recs in consumer.poll(timeout_ms=200).items():
                for r in recs:
                    out.append({
                        "partition": tp.partition,
                        "offset": r.offset,
                        "key": None if r.key is None else r.key.decode("utf-8"),
                        "value": r.value.decode("utf-8"),
                    })
        print(json.dumps({"messages": out}))
    except Exception as e:  # reported to the Go test, which decides
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
