#!/usr/bin/env python3
"""Interleaved cold-start comparison of two function binaries, reusing bench/lambda_bench.py's
Function and proc_figures. Same measurement as lambda_bench.py part 1 ("process start to first
binlog event published and checkpointed"), but for binaries A and B alternately (A,B,A,B,...),
each with its own database, connector name, offsets table and its own commit's CLI for `init`.
Drain part skipped. Prints one JSON line per run and a summary per binary."""
import argparse, json, statistics, subprocess, sys, time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_bench import Function  # noqa: E402
import pymysql  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--a-bin", required=True); p.add_argument("--a-cli", required=True); p.add_argument("--a-name", default="before")
p.add_argument("--b-bin", required=True); p.add_argument("--b-cli", required=True); p.add_argument("--b-name", default="after")
p.add_argument("--port", type=int, required=True); p.add_argument("--kafka", required=True)
p.add_argument("--dynamodb", required=True); p.add_argument("--emulator-port", type=int, required=True)
p.add_argument("--starts", type=int, default=15); p.add_argument("--work", required=True)
args = p.parse_args()
work = Path(args.work); work.mkdir(parents=True, exist_ok=True)
sql = pymysql.connect(host="127.0.0.1", port=args.port, user="bp", password="bp-pass", autocommit=True)
cur = sql.cursor()
stamp = int(time.time())

subjects = []
for name, binp, cli in ((args.a_name, args.a_bin, args.a_cli), (args.b_name, args.b_bin, args.b_cli)):
    db = f"lambda_ab_{name}_{stamp}"
    cur.execute(f"CREATE DATABASE {db}")
    cur.execute(f"CREATE TABLE {db}.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(16) NOT NULL,"
                " amount DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL)")
    config = {"name": db, "config": {
        "database.hostname": "127.0.0.1", "database.port": str(args.port),
        "database.user": "bp", "database.password": "bp-pass",
        "topic.prefix": db, "database.include.list": db, "snapshot.mode": "never",
        "kafka.bootstrap.servers": args.kafka, "topic.creation.default.partitions": "3",
        "offset.storage": "dynamodb", "offset.storage.dynamodb.table": f"bench-offsets-ab-{name}",
        "offset.storage.dynamodb.endpoint": args.dynamodb, "offset.storage.dynamodb.region": "us-east-1",
        "poll.max.duration.ms": "600000"}}
    cfg = work / f"connector-{name}.json"; cfg.write_text(json.dumps(config))
    subprocess.run([cli, "init", "--config", str(cfg)], check=True, capture_output=True)
    s = SimpleNamespace(name=name, db=db, cfg=cfg, log=work / f"function-{name}.log",
                        fnargs=SimpleNamespace(bin=binp, emulator_port=args.emulator_port), runs=[], rss=[], cpu=[])
    # The first poll records where the binlog ends (snapshot.mode=never starts there), as lambda_bench does.
    fn = Function(s.fnargs, cfg, s.log); fn.invoke({"action": "poll"}); fn.stop()
    subjects.append(s)

for i in range(args.starts):
    for s in subjects:
        cur.execute(f"INSERT INTO {s.db}.orders VALUES ({i}, 1, 'new', 1.25, 'n', '2024-05-01 10:11:12')")
        fn = Function(s.fnargs, s.cfg, s.log)
        out = fn.invoke({"action": "poll"})
        took = time.monotonic() - fn.spawned
        fig = fn.stop()
        assert out["events"] == 1, out
        s.runs.append(took); s.rss.append(fig["peak_rss_kb"]); s.cpu.append(fig["cpu_seconds"])
        print(json.dumps({"run": i, "bin": s.name, "ms": round(took * 1000, 1), **fig}), flush=True)

for s in subjects:
    print(json.dumps({"measure": "process start to first binlog event published and checkpointed",
                      "bin": s.name, "server": "mysql", "runs": len(s.runs),
                      "median_ms": round(statistics.median(s.runs) * 1000), "min_ms": round(min(s.runs) * 1000),
                      "max_ms": round(max(s.runs) * 1000),
                      "median_peak_rss_kib": statistics.median(s.rss), "median_cpu_s": statistics.median(s.cpu),
                      "min_cpu_s": min(s.cpu), "max_cpu_s": max(s.cpu)}), flush=True)
