#!/usr/bin/env python3
"""Capture binlog dump streams as fixtures for the unit tests of the binlog state machine.

Runs a small workload on a private MySQL 9.7 and/or MariaDB 10.11 (their unix sockets as
arguments; root without password, as `mysqld --initialize-insecure` and
`mariadb-install-db` leave it), then requests dumps exactly as mysql_async does
(`SET @master_binlog_checksum='ALL'`, `@mariadb_slave_capability=4` on MariaDB,
COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID with BINLOG_DUMP_NON_BLOCK) and writes every
packet the server sends, as sent (status byte 0x00 first, the final EOF packet left
out), framed as `u32 little-endian length + bytes`.

Usage (needs PyMySQL):
    capture_binlog.py --mysql-socket /tmp/bp-capture/mysql/mysqld.sock \
        --mariadb-socket /tmp/bp-capture/mariadb/mariadb.sock --out tests/fixtures/binlog

Each fixture gets a `<name>.txt` next to it: the server's own `SHOW BINLOG EVENTS` of
the files involved, which is what the tests' expected positions were read from.
"""

import argparse
import os
import struct

import pymysql

COM_BINLOG_DUMP = 0x12
COM_BINLOG_DUMP_GTID = 0x1E
NON_BLOCK = 0x01
THROUGH_GTID = 0x04
SERVER_ID = 4242


# The same traffic on both servers: an autocommit insert, a multi-statement
# transaction, and a DDL statement group.
WORKLOAD = (
    "INSERT INTO cap.t VALUES (1, 'a')",
    "BEGIN",
    "INSERT INTO cap.t VALUES (2, 'b')",
    "UPDATE cap.t SET v = 'bb' WHERE id = 2",
    "COMMIT",
    "ALTER TABLE cap.t ADD COLUMN w INT",
)


def connect(sock):
    return pymysql.connect(unix_socket=sock, user="root", password="", autocommit=True)


def run(conn, *sqls):
    with conn.cursor() as c:
        for s in sqls:
            c.execute(s)


def one(conn, sql):
    with conn.cursor() as c:
        c.execute(sql)
        return c.fetchone()


def current(conn, mysql):
    row = one(conn, "SHOW BINARY LOG STATUS" if mysql else "SHOW MASTER STATUS")
    return row[0], int(row[1])


def sid_block(gtid_set):
    """COM_BINLOG_DUMP_GTID's SID block for an untagged MySQL GTID set."""
    sids = [s.strip() for s in gtid_set.replace("\n", "").split(",") if s.strip()]
    out = struct.pack("<Q", len(sids))
    for s in sids:
        uuid, *ranges = s.split(":")
        out += bytes.fromhex(uuid.replace("-", ""))
        out += struct.pack("<Q", len(ranges))
        for r in ranges:
            a, _, b = r.partition("-")
            out += struct.pack("<QQ", int(a), int(b or a) + 1)
    return out


def dump(sock, mariadb, out, *, file=None, pos=4, gtid_set=None):
    conn = connect(sock)
    run(conn, "SET @master_binlog_checksum='ALL'")
    if mariadb:
        run(conn, "SET @mariadb_slave_capability=4")
    if gtid_set is None:
        name = file.encode()
        payload = struct.pack("<IHI", pos, NON_BLOCK, SERVER_ID) + name
        conn._execute_command(COM_BINLOG_DUMP, payload)
    else:
        block = sid_block(gtid_set)
        flags = NON_BLOCK | (THROUGH_GTID if gtid_set else 0)
        payload = struct.pack("<HII", flags, SERVER_ID, 0) + struct.pack("<Q", 4)
        payload += struct.pack("<I", len(block)) + block
        conn._execute_command(COM_BINLOG_DUMP_GTID, payload)
    n = 0
    with open(out, "wb") as f:
        while True:
            pkt = conn._read_packet()
            data = pkt.get_all_data()
            if pkt.is_eof_packet():
                break
            f.write(struct.pack("<I", len(data)) + data)
            n += 1
    conn.close()
    print(f"{out}: {n} packets, {os.path.getsize(out)} bytes")


def describe(conn, files, out):
    with open(out, "w") as f:
        for name in files:
            with conn.cursor() as c:
                c.execute(f"SHOW BINLOG EVENTS IN '{name}'")
                for row in c.fetchall():
                    f.write("\t".join(str(x) for x in row) + "\n")


def mysql(sock, out):
    c = connect(sock)
    run(
        c,
        "DROP DATABASE IF EXISTS cap",
        "CREATE DATABASE cap",
        "CREATE TABLE cap.t (id INT PRIMARY KEY, v VARCHAR(20))",
        "FLUSH BINARY LOGS",
    )
    # GTID dump: everything before the workload is in the requested set.
    (before,) = one(c, "SELECT @@GLOBAL.gtid_executed")
    file_a, _ = current(c, True)
    run(c, *WORKLOAD)
    dump(sock, False, f"{out}/mysql_gtid.bin", gtid_set=before)
    describe(c, [file_a], f"{out}/mysql_gtid.txt")

    # File/position dump that crosses a rotation, and a resume at a transaction start.
    run(c, "FLUSH BINARY LOGS")
    file_b, _ = current(c, True)
    run(
        c,
        "INSERT INTO cap.t VALUES (3, 'c', 3)",
        "BEGIN",
        "INSERT INTO cap.t VALUES (4, 'd', 4)",
        "INSERT INTO cap.t VALUES (5, 'e', 5)",
        "COMMIT",
        "FLUSH BINARY LOGS",
    )
    file_c, _ = current(c, True)
    run(c, "DELETE FROM cap.t WHERE id = 1")
    dump(sock, False, f"{out}/mysql_pos.bin", file=file_b, pos=4)
    describe(c, [file_b, file_c], f"{out}/mysql_pos.txt")
    # The second transaction of file_b starts at its GTID event (the third GTID event).
    with c.cursor() as cur:
        cur.execute(f"SHOW BINLOG EVENTS IN '{file_b}'")
        gtids = [r[1] for r in cur.fetchall() if r[2] == "Gtid"]
    dump(sock, False, f"{out}/mysql_resume.bin", file=file_b, pos=gtids[1])

    # Binlog transaction compression: one payload with two rows events.
    run(c, "FLUSH BINARY LOGS")
    file_d, _ = current(c, True)
    run(
        c,
        "SET SESSION binlog_transaction_compression=ON",
        "BEGIN",
        "INSERT INTO cap.t VALUES (6, 'f', 6)",
        "INSERT INTO cap.t VALUES (7, 'g', 7)",
        "COMMIT",
        "SET SESSION binlog_transaction_compression=OFF",
    )
    dump(sock, False, f"{out}/mysql_compressed.bin", file=file_d, pos=4)
    describe(c, [file_d], f"{out}/mysql_compressed.txt")


def mariadb(sock, out):
    c = connect(sock)
    run(
        c,
        "DROP DATABASE IF EXISTS cap",
        "CREATE DATABASE cap",
        "CREATE TABLE cap.t (id INT PRIMARY KEY, v VARCHAR(20))",
        "FLUSH BINARY LOGS",
    )
    file_a, _ = current(c, False)
    run(c, *WORKLOAD)
    dump(sock, True, f"{out}/mariadb_gtid.bin", file=file_a, pos=4)
    describe(c, [file_a], f"{out}/mariadb_gtid.txt")


# MariaDB with log_bin_compress=ON: the server compresses every QUERY and rows event
# whose body is at least log_bin_compress_min_len bytes (10 here, the smallest allowed, so
# even short rows events are compressed; the default is 256).
COMPRESSED_WORKLOAD = (
    "INSERT INTO cap.c VALUES (1, 'one', REPEAT('x', 300))",
    "BEGIN",
    "INSERT INTO cap.c VALUES (2, 'two', 'short')",
    "UPDATE cap.c SET v = 'TWO' WHERE id = 2",
    "COMMIT",
    "DELETE FROM cap.c WHERE id = 1",
    "INSERT INTO cap.c VALUES (3, 'three', NULL), (4, 'four', 'f'), (5, 'five', REPEAT('y', 40))",
    "ALTER TABLE cap.c ADD COLUMN w INT NULL COMMENT '"
    + "a comment long enough for the statement to be compressed " * 3
    + "'",
)


def mariadb_compressed(sock, out):
    c = connect(sock)
    run(
        c,
        "DROP DATABASE IF EXISTS cap",
        "CREATE DATABASE cap",
        "CREATE TABLE cap.c (id INT PRIMARY KEY, v VARCHAR(20), big TEXT)",
        "SET GLOBAL log_bin_compress=ON",
        "SET GLOBAL log_bin_compress_min_len=10",
        "FLUSH BINARY LOGS",
    )
    file_a, _ = current(c, False)
    run(c, *COMPRESSED_WORKLOAD)
    run(c, "SET GLOBAL log_bin_compress=OFF")
    dump(sock, True, f"{out}/mariadb_compressed.bin", file=file_a, pos=4)
    describe(c, [file_a], f"{out}/mariadb_compressed.txt")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mysql-socket")
    p.add_argument("--mariadb-socket")
    p.add_argument(
        "--mariadb-compressed-socket",
        help="a MariaDB for mariadb_compressed.bin only (the script turns log_bin_compress on)",
    )
    p.add_argument("--out", default="tests/fixtures/binlog")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.mysql_socket:
        mysql(a.mysql_socket, a.out)
    if a.mariadb_socket:
        mariadb(a.mariadb_socket, a.out)
    if a.mariadb_compressed_socket:
        mariadb_compressed(a.mariadb_compressed_socket, a.out)


if __name__ == "__main__":
    main()
