#!/usr/bin/env python3
"""The OLTP-shaped workload of bench/oltp.sh: writes ROWS row changes into DB.oltp.

The mix, from a fixed seed so every run writes the same binlog:
* 45 % single-row INSERTs (autocommit),
* 25 % single-row UPDATEs by primary key (before and after images),
* 10 % single-row DELETEs by primary key,
* 15 % small transactions of 2-5 of those statements,
* 5 % bulk statements: a 100-row multi-VALUES INSERT or an UPDATE over a
  100-key range.

The table has ten columns of the usual kinds, a JSON one among them. Every
UPDATE changes a value, so each counted row is a row image in the binlog.
Prints one JSON line: rows (row changes written), transactions, seconds.
"""
import argparse
import json
import random
import time

import pymysql

DDL = """CREATE TABLE {db}.oltp (
  id BIGINT PRIMARY KEY,
  customer_id INT NOT NULL,
  status VARCHAR(16) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  qty INT NOT NULL,
  note VARCHAR(100),
  attrs JSON,
  created DATETIME(6) NOT NULL,
  updated TIMESTAMP(6) NOT NULL,
  flag TINYINT NOT NULL
)"""

STATUSES = ["new", "paid", "packed", "shipped", "done", "returned"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rows", type=int, default=600_000)
    ap.add_argument("--create", action="store_true", help="only create the table")
    args = ap.parse_args()
    conn = pymysql.connect(host="127.0.0.1", port=args.port, user="bp", password="bp-pass", autocommit=True)
    cur = conn.cursor()
    if args.create:
        cur.execute(DDL.format(db=args.db))
        return
    rng = random.Random(20261202)
    table = f"{args.db}.oltp"
    live: list[int] = []
    next_id = 1
    rows = 0
    transactions = 0

    def values(i: int) -> str:
        attrs = json.dumps({"sku": f"SKU-{i % 9973}", "tags": ["a", "b"][: 1 + i % 2], "weight": (i % 50) / 4})
        return (
            f"({i}, {rng.randrange(100000)}, '{rng.choice(STATUSES)}', {rng.randrange(10**7) / 100:.2f}, "
            f"{rng.randrange(1, 20)}, 'note {i % 1000}', '{attrs}', '2026-12-02 10:11:12.{i % 1000000:06d}', "
            f"'2026-12-02 10:11:12.000000', {i % 2})"
        )

    def insert() -> int:
        nonlocal next_id
        cur.execute(f"INSERT INTO {table} VALUES {values(next_id)}")
        live.append(next_id)
        next_id += 1
        return 1

    def update() -> int:
        if not live:
            return insert()
        i = live[rng.randrange(len(live))]
        cur.execute(
            f"UPDATE {table} SET qty = qty + 1, status = '{rng.choice(STATUSES)}', "
            f"amount = amount + 1.25, updated = CURRENT_TIMESTAMP(6) WHERE id = {i}"
        )
        return cur.rowcount

    def delete() -> int:
        if not live:
            return insert()
        k = rng.randrange(len(live))
        live[k], live[-1] = live[-1], live[k]
        cur.execute(f"DELETE FROM {table} WHERE id = {live.pop()}")
        return cur.rowcount

    def single() -> int:
        r = rng.random()
        if r < 0.45 / 0.80:
            return insert()
        if r < 0.70 / 0.80:
            return update()
        return delete()

    started = time.monotonic()
    while rows < args.rows:
        r = rng.random()
        if r < 0.80:
            rows += single()
        elif r < 0.95:
            cur.execute("START TRANSACTION")
            for _ in range(rng.randrange(2, 6)):
                rows += single()
            cur.execute("COMMIT")
        elif rng.random() < 0.5:
            first = next_id
            cur.execute(f"INSERT INTO {table} VALUES " + ", ".join(values(first + k) for k in range(100)))
            live.extend(range(first, first + 100))
            next_id += 100
            rows += 100
        else:
            lo = rng.randrange(1, max(2, next_id - 100))
            cur.execute(f"UPDATE {table} SET qty = qty + 1, flag = 1 - flag WHERE id BETWEEN {lo} AND {lo + 99}")
            rows += cur.rowcount
        transactions += 1
    conn.close()
    print(json.dumps({"rows": rows, "transactions": transactions, "seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main()
