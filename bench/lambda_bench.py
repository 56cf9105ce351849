#!/usr/bin/env python3
"""The Lambda function's own figures, measured on the real function binary under
cargo-lambda's runtime API emulator against the local servers (run by bench/lambda.sh).

1. Start to first event: one row change waits in the binlog; the clock starts when the
   function process is spawned (a cold start) and stops when the poll's response, which
   published that event to Kafka and checkpointed it in DynamoDB (moto), comes back.
2. Drain: ROWS row changes (default 500,000, in transactions of 1,000 rows) wait; one poll
   invocation publishes them all. Reported: wall time, the process's peak RSS (VmHWM) and
   its CPU time, read from /proc before it exits.

Prints one JSON line per measurement.
"""
import argparse
import json
import os
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

import pymysql


def proc_figures(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return {"peak_rss_kb": hwm, "cpu_seconds": round(cpu, 3)}


class Function:
    """The function binary connected to the emulator, as Lambda starts it."""

    def __init__(self, args, config_path: Path, log: Path):
        self.args = args
        env = dict(os.environ,
                   AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{args.emulator_port}/.rt",
                   AWS_LAMBDA_FUNCTION_NAME="_", AWS_LAMBDA_FUNCTION_VERSION="1",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
                   BINLOG_POLLER_CONFIG_FILE=str(config_path),
                   BINLOG_POLLER_DEADLINE_MARGIN_MS="1000")
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen([args.bin], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)

    def invoke(self, payload: dict) -> dict:
        url = f"http://127.0.0.1:{self.args.emulator_port}/2015-03-31/functions/_/invocations"
        req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as r:
            return json.loads(r.read())

    def stop(self) -> dict:
        figures = proc_figures(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(10)
        return figures


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--cli", required=True, help="the binlog-poller CLI (creates the offsets table)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--kafka", required=True)
    p.add_argument("--dynamodb", required=True)
    p.add_argument("--emulator-port", type=int, required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--starts", type=int, default=5)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    work = Path(args.work)
    db = work.name
    sql = pymysql.connect(host="127.0.0.1", port=args.port, user="bp", password="bp-pass", autocommit=True)
    cur = sql.cursor()
    cur.execute(f"CREATE DATABASE {db}")
    cur.execute(f"CREATE TABLE {db}.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(16) NOT NULL,"
                " amount DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL)")
    cur.execute(f"CREATE TABLE {db}.digits (d INT PRIMARY KEY)")
    cur.execute(f"INSERT INTO {db}.digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)")

    config = {"name": db, "config": {
        "database.hostname": "127.0.0.1", "database.port": str(args.port),
        "database.user": "bp", "database.password": "bp-pass",
        "topic.prefix": db, "database.include.list": db, "snapshot.mode": "never",
        "kafka.bootstrap.servers": args.kafka, "topic.creation.default.partitions": "3",
        "offset.storage": "dynamodb", "offset.storage.dynamodb.table": "bench-offsets",
        "offset.storage.dynamodb.endpoint": args.dynamodb, "offset.storage.dynamodb.region": "us-east-1",
        "poll.max.duration.ms": "600000"}}
    config_path = work / "connector.json"
    config_path.write_text(json.dumps(config))
    log = work / "function.log"
    subprocess.run([args.cli, "init", "--config", str(config_path)], check=True, capture_output=True)

    # The first poll records where the binlog ends (snapshot.mode=never starts there).
    fn = Function(args, config_path, log)
    fn.invoke({"action": "poll"})
    fn.stop()

    starts = []
    for i in range(args.starts):
        cur.execute(f"INSERT INTO {db}.orders VALUES ({i}, 1, 'new', 1.25, 'n', '2024-05-01 10:11:12')")
        fn = Function(args, config_path, log)
        out = fn.invoke({"action": "poll"})
        took = time.monotonic() - fn.spawned
        fn.stop()
        assert out["events"] == 1, out
        starts.append(took)
    print(json.dumps({"measure": "process start to first binlog event published and checkpointed",
                      "server": args.server, "runs": len(starts),
                      "median_ms": round(statistics.median(starts) * 1000),
                      "min_ms": round(min(starts) * 1000), "max_ms": round(max(starts) * 1000)}))

    base = 1_000_000
    for t in range(args.rows // 1000):
        cur.execute(f"INSERT INTO {db}.orders SELECT {base + t * 1000} + a.d*100 + b.d*10 + c.d, (a.d*7 + b.d*13 + c.d) % 5000,"
                    " ELT(1 + c.d % 4, 'new','paid','shipped','done'), (a.d*100 + b.d*10 + c.d) * 1.25, REPEAT('n', 40),"
                    f" '2024-05-01 10:11:12.123456' FROM {db}.digits a, {db}.digits b, {db}.digits c")
    fn = Function(args, config_path, log)
    began = time.monotonic()
    out = fn.invoke({"action": "poll"})
    wall = time.monotonic() - began
    figures = fn.stop()
    assert out["events"] == args.rows, out
    print(json.dumps({"measure": f"one invocation draining {args.rows} events (schemas on)", "server": args.server,
                      "events": out["events"], "seconds": round(wall, 2), "events_per_s": round(out["events"] / wall),
                      "mib_published": round(out["bytes"] / 1048576, 1), **figures,
                      "cpu_us_per_event": round(figures["cpu_seconds"] / out["events"] * 1e6, 2)}))


if __name__ == "__main__":
    main()
