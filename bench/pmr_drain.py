#!/usr/bin/env python3
"""Peer for bench/drain.sh: python-mysql-replication decodes the same binlog range.

Reads row events of one database from FILE:POS to the current end of the binlog
(non-blocking) and counts row changes. Prints one JSON line: rows, seconds,
rows_per_s, peak_rss_kb. It decodes only: no JSON encoding, no Kafka.
"""
import argparse
import json
import resource
import time

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--pos", type=int, required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--server-id", type=int, default=7777)
    args = ap.parse_args()

    started = time.monotonic()
    stream = BinLogStreamReader(
        connection_settings={"host": args.host, "port": args.port, "user": args.user, "passwd": args.password},
        server_id=args.server_id,
        blocking=False,
        resume_stream=True,
        log_file=args.file,
        log_pos=args.pos,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent],
        only_schemas=[args.schema],
    )
    rows = 0
    for event in stream:
        for _row in event.rows:
            rows += 1
    stream.close()
    seconds = time.monotonic() - started
    print(json.dumps({
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
