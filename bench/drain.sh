#!/usr/bin/env bash
# Drain benchmark: ROWS row changes (default 500,000, in transactions of 1,000 rows) sit in the
# binlog; binlog-poller (release build) drains them to the broker in one poll, with and without
# JSON schemas; python-mysql-replication decodes the same binlog range as a peer (decode only).
#
#   bench/drain.sh [mysql|mariadb]      (ROWS=... to change the size)
#
# Prints one JSON line per run: tool, server, rows, seconds, rows_per_s, peak_rss_kb.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SERVER="${1:-mysql}"
ROWS="${ROWS:-500000}"
. bench/common.sh

case "$SERVER" in
  mysql) URL="$BP_MYSQL_URL" ;;
  mariadb) URL="$BP_MARIADB_URL" ;;
  *) echo "usage: $0 [mysql|mariadb]" >&2; exit 2 ;;
esac
PORT="${URL##*:}"
run_sql() { "$BP_PYTHON" bench/run_sql.py "$PORT" "$1"; }

DB="bench_$(date +%s)"
WORK="target/bench/$DB"; mkdir -p "$WORK"
{
  echo "CREATE DATABASE $DB;"
  echo "CREATE TABLE $DB.digits (d INT PRIMARY KEY);"
  echo "INSERT INTO $DB.digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);"
  echo "CREATE TABLE $DB.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(16) NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(100), created DATETIME(6) NOT NULL);"
} > "$WORK/schema.sql"
run_sql "$WORK/schema.sql"

config() {  # name prefix schemas
  cat > "$WORK/$1.json" <<JSON
{"name": "$1", "config": {
  "database.hostname": "127.0.0.1", "database.port": "$PORT", "database.user": "bp", "database.password": "bp-pass",
  "topic.prefix": "$2", "database.include.list": "$DB", "snapshot.mode": "never",
  "key.converter.schemas.enable": "$3", "value.converter.schemas.enable": "$3",
  "kafka.bootstrap.servers": "$BP_KAFKA_BOOTSTRAP", "topic.creation.default.partitions": "3",
  "offset.storage": "file", "offset.storage.file.filename": "$WORK/offsets-$1.json",
  "poll.max.duration.ms": "600000"}}
JSON
}
config start "${DB}-start" true
START=$("$BIN" run --once --config "$WORK/start.json" 2>/dev/null)
FILE=$(echo "$START" | "$BP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["first_position"].rsplit(":",1)[0])')
POS=$(echo "$START" | "$BP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["first_position"].rsplit(":",1)[1])')

TXS=$((ROWS / 1000))
for ((i = 0; i < TXS; i++)); do
  echo "INSERT INTO $DB.orders SELECT $((i * 1000)) + a.d*100 + b.d*10 + c.d, (a.d*7 + b.d*13 + c.d) % 5000, ELT(1 + c.d % 4, 'new','paid','shipped','done'), (a.d*100 + b.d*10 + c.d) * 1.25, REPEAT('n', 40), '2024-05-01 10:11:12.123456' FROM $DB.digits a, $DB.digits b, $DB.digits c;"
done > "$WORK/load.sql"
run_sql "$WORK/load.sql"

ours() {  # variant schemas
  local name="$1"
  config "$name" "${DB}-$name" "$2"
  # Every variant starts from the same binlog position.
  printf '{"%s": {"epoch": 0, "checkpoint": {"position": {"file": "%s", "pos": %s}}}}' "$name" "$FILE" "$POS" > "$WORK/offsets-$name.json"
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$BIN" run --once --config "$WORK/$name.json" 2>"$WORK/$name.log")
  t1=$(date +%s.%N)
  echo "$out" | "$BP_PYTHON" -c "
import json, sys
s = json.loads(sys.stdin.read())
wall = $t1 - $t0
print(json.dumps({'tool': 'binlog-poller ($name)', 'server': '$SERVER', 'rows': s['events'], 'records': s['records'],
  'seconds': round(wall, 3), 'rows_per_s': round(s['events'] / wall), 'poll_ms': s['duration_ms'],
  'mib_published': round(s['bytes'] / 1048576, 1), 'peak_rss_kb': s['peak_rss_kb']}))"
}
ours schemas-on true
ours schemas-off false
"$BP_PYTHON" bench/pmr_drain.py --port "$PORT" --user bp --password bp-pass --file "$FILE" --pos "$POS" --schema "$DB" \
  | "$BP_PYTHON" -c "import json,sys; r=json.load(sys.stdin); r={'tool':'python-mysql-replication (decode only)','server':'$SERVER', **r}; print(json.dumps(r))"
