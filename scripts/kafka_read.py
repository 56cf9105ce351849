#!/usr/bin/env python3
"""Read topics back with an independent Kafka client (confluent-kafka / librdkafka).

    kafka_read.py --bootstrap 127.0.0.1:19092 --topic-prefix smoke. [--idle-ms 1500] [--timeout-s 60]
                  [--config security.protocol=SASL_SSL --config sasl.mechanism=SCRAM-SHA-512 ...]

Prints one JSON object per record on stdout: topic, partition, offset, key, value
(key/value parsed as JSON, null for tombstones). Reads from the beginning of every
matching topic until no record arrived for --idle-ms (tansu under-reports the log
end offset, so "caught up" is judged by idleness, not by ListOffsets).
"""
import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic-prefix", required=True)
    ap.add_argument("--idle-ms", type=int, default=1500)
    ap.add_argument("--timeout-s", type=float, default=60)
    ap.add_argument("--format", choices=["json", "lines"], default="json",
                    help="json: one object per record; lines: a short human-readable line per record")
    ap.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                    help="extra librdkafka setting (TLS, SASL); repeatable")
    args = ap.parse_args()

    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": f"bp-reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    for kv in args.config:
        key, _, value = kv.partition("=")
        conf[key] = value
    consumer = Consumer(conf)
    meta = consumer.list_topics(timeout=10)
    topics = sorted(t for t in meta.topics if t.startswith(args.topic_prefix))
    parts = [TopicPartition(t, p, 0) for t in topics for p in meta.topics[t].partitions]
    if not parts:
        print(f"no topics with prefix {args.topic_prefix!r}", file=sys.stderr)
        return 0
    consumer.assign(parts)
    deadline = time.monotonic() + args.timeout_s
    last = time.monotonic()
    count = 0
    while time.monotonic() < deadline and (time.monotonic() - last) * 1000 < args.idle_ms:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                continue
            raise KafkaException(msg.error())
        last = time.monotonic()
        count += 1
        key = json.loads(msg.key()) if msg.key() else None
        value = json.loads(msg.value()) if msg.value() else None
        if args.format == "lines":
            payload = value.get("payload", value) if value else None
            head = f"{msg.topic()} p{msg.partition()} #{msg.offset()} | key {json.dumps(key)}"
            if payload is None:
                print(f"{head} | tombstone")
            else:
                print(f"{head} | {payload['op']} {json.dumps(payload['before'])} -> {json.dumps(payload['after'])}")
            continue
        print(json.dumps({
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": key,
            "value": value,
        }, separators=(",", ":")))
    consumer.close()
    print(f"read {count} records from {len(topics)} topics", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
