#!/usr/bin/env bash
# Snapshot benchmark: a ROWS-row table (default 1,000,000) read by binlog-poller's chunked
# snapshot (release build, one poll, to a 3-partition topic, acks=all), next to
# `mysqldump --single-transaction` (MySQL 9.7's) / `mariadb-dump --single-transaction` of the
# same table to /dev/null. Reports rows/s, peak RSS and the table-lock hold max / p99.
#
#   bench/snapshot.sh [mysql|mariadb]      (ROWS=..., CHUNK=... to change sizes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SERVER="${1:-mysql}"
ROWS="${ROWS:-1000000}"
CHUNK="${CHUNK:-4096}"
. bench/common.sh

case "$SERVER" in
  mysql)
    PORT="${BP_MYSQL_URL##*:}"
    dump() { "${MYSQL97[@]}" "$MYSQL_ROOT/usr/bin/mysqldump" --no-defaults "$@"; } ;;
  mariadb)
    PORT="${BP_MARIADB_URL##*:}"
    dump() { mariadb-dump --no-defaults "$@"; } ;;
  *) echo "usage: $0 [mysql|mariadb]" >&2; exit 2 ;;
esac

DB="snapbench_$(date +%s)"
WORK="target/bench/$DB"; mkdir -p "$WORK"
DIGITS=$(( ${#ROWS} - 1 ))   # 1000000 -> 6 digit tables
cols="" ; from="" ; sep=""
for ((i = 0; i < DIGITS; i++)); do
  cols="$cols${sep}d$i.d*$((10 ** i))"; from="$from${sep}$DB.digits d$i"; sep=", "
done
cat > "$WORK/load.sql" <<SQL
CREATE DATABASE $DB;
CREATE TABLE $DB.digits (d INT PRIMARY KEY);
INSERT INTO $DB.digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
CREATE TABLE $DB.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(16) NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL);
INSERT INTO $DB.orders SELECT ${cols//, / + }, id_mod, 'paid', 12.5, REPEAT('n', 40), '2024-05-01 10:11:12.123456' FROM (SELECT 1) one, $from CROSS JOIN (SELECT 7 AS id_mod) m;
DROP TABLE $DB.digits;
SQL
"$BP_PYTHON" bench/run_sql.py "$PORT" "$WORK/load.sql"

ours() {  # variant schemas
  local name="$1"
  cat > "$WORK/$name.json" <<JSON
{"name": "$name", "config": {
  "database.hostname": "127.0.0.1", "database.port": "$PORT", "database.user": "bp", "database.password": "bp-pass",
  "topic.prefix": "$DB-$name", "database.include.list": "$DB", "snapshot.mode": "initial_only",
  "snapshot.fetch.size": "$CHUNK",
  "key.converter.schemas.enable": "$2", "value.converter.schemas.enable": "$2",
  "kafka.bootstrap.servers": "$BP_KAFKA_BOOTSTRAP", "topic.creation.default.partitions": "3",
  "offset.storage": "file", "offset.storage.file.filename": "$WORK/offsets-$name.json",
  "poll.max.duration.ms": "1800000"}}
JSON
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$BIN" run --once --config "$WORK/$name.json" 2>"$WORK/$name.log")
  t1=$(date +%s.%N)
  echo "$out" | "$BP_PYTHON" -c "
import json, sys
s = json.loads(sys.stdin.read())
wall = $t1 - $t0
print(json.dumps({'tool': 'binlog-poller snapshot ($name, chunk $CHUNK)', 'server': '$SERVER', 'rows': s['snapshot_rows'],
  'seconds': round(wall, 3), 'rows_per_s': round(s['snapshot_rows'] / wall), 'chunks': s['snapshot_chunks'],
  'lock_hold_max_ms': s.get('lock_hold_max_ms'), 'lock_hold_p99_ms': s.get('lock_hold_p99_ms'),
  'mib_published': round(s['bytes'] / 1048576, 1), 'peak_rss_kb': s['peak_rss_kb']}))"
}
ours schemas-on true
ours schemas-off false

t0=$(date +%s.%N)
dump --single-transaction -h127.0.0.1 -P"$PORT" -ubp -pbp-pass "$DB" orders 2>/dev/null > "$WORK/dump.sql"
t1=$(date +%s.%N)
"$BP_PYTHON" -c "
import json, os
wall = $t1 - $t0
print(json.dumps({'tool': 'mysqldump --single-transaction', 'server': '$SERVER', 'rows': $ROWS, 'seconds': round(wall, 3),
  'rows_per_s': round($ROWS / wall), 'mib_written': round(os.path.getsize('$WORK/dump.sql') / 1048576, 1)}))"
rm -f "$WORK/dump.sql"
