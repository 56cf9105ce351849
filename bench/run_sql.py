#!/usr/bin/env python3
"""Runs the `;`-terminated statements of a SQL file (one per line) on a local server."""
import sys

import pymysql

port, path = int(sys.argv[1]), sys.argv[2]
conn = pymysql.connect(host="127.0.0.1", port=port, user="bp", password="bp-pass", autocommit=True)
cur = conn.cursor()
with open(path) as f:
    for stmt in f.read().split(";\n"):
        if stmt.strip():
            cur.execute(stmt)
conn.close()
