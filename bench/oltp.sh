#!/usr/bin/env bash
# OLTP-shaped drain benchmark: every reader side by side on the same binlog, in one run.
#
#   bench/oltp.sh [mysql|mariadb]     (ROWS=600000 REPEAT=3 CPUS=0 by default)
#
# bench/oltp_workload.py writes ROWS row changes (single-row and small transactions, updates
# with before/after images, deletes, a few 100-row bulk statements; a 10-column table with a
# JSON column) into a fresh binlog file. Then each reader reads that file from its start, REPEAT
# times, pinned to the cores in CPUS (taskset), and the script prints one JSON line per reader
# with the medians: rows/s, CPU seconds per 100k rows, peak RSS, and the ratio to the
# text decoder (`mysqlbinlog -v` / `mariadb-binlog -v`):
#   * mysqlbinlog --raw            transfer only (the binlog copied to files)
#   * mysqlbinlog -v               decode to text (to /dev/null)
#   * binlog-poller schemas on/off a release build publishing to the local broker, acks=all
#   * python-mysql-replication     rows decoded to dicts (bench/pmr_drain.py)
#   * Debezium 3.6.3 embedded      JsonConverter text, records discarded (bench/DebeziumDrain.java,
#                                  MySQL only)
#
# The script FLUSHes and PURGEs the server's binary logs: run it on the dev servers, not on a
# server whose binlogs matter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SERVER="${1:-mysql}"
ROWS="${ROWS:-600000}"
REPEAT="${REPEAT:-3}"
CPUS="${CPUS:-0}"
. bench/common.sh
case "$SERVER" in
  mysql)
    URL="$BP_MYSQL_URL"
    BINLOG_TOOL=("${MYSQL97[@]}" "$MYSQL_ROOT/usr/bin/mysqlbinlog" --ssl-mode=DISABLED --get-server-public-key)
    TEXT_TOOL="mysqlbinlog"
    ;;
  mariadb)
    URL="$BP_MARIADB_URL"
    BINLOG_TOOL=(mariadb-binlog --skip-ssl)
    TEXT_TOOL="mariadb-binlog"
    ;;
  *) echo "usage: $0 [mysql|mariadb]" >&2; exit 2 ;;
esac
PORT="${URL##*:}"
DB="oltp_$(date +%s)"
WORK="target/bench/$DB"; mkdir -p "$WORK/raw"
RESULTS="$WORK/results.jsonl"
sql() { "$BP_PYTHON" -c "
import json, sys, pymysql
c = pymysql.connect(host='127.0.0.1', port=$PORT, user='bp', password='bp-pass', autocommit=True)
cur = c.cursor(); cur.execute(sys.argv[1]); print(json.dumps(cur.fetchall(), default=str))" "$1"; }

# A fresh binlog file holding only this run's database.
sql "FLUSH BINARY LOGS" >/dev/null
STATUS=$([ "$SERVER" = mysql ] && echo "SHOW BINARY LOG STATUS" || echo "SHOW MASTER STATUS")
FILE=$(sql "$STATUS" | "$BP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0][0])')
sql "PURGE BINARY LOGS TO '$FILE'" >/dev/null
sql "CREATE DATABASE $DB" >/dev/null
"$BP_PYTHON" bench/oltp_workload.py --port "$PORT" --db "$DB" --create
LOAD=$("$BP_PYTHON" bench/oltp_workload.py --port "$PORT" --db "$DB" --rows "$ROWS")
echo "workload: $LOAD" >&2
N=$(echo "$LOAD" | "$BP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
sql "FLUSH BINARY LOGS" >/dev/null
BYTES=$(sql "SHOW BINARY LOGS" | "$BP_PYTHON" -c "import json,sys; print(sum(int(r[1]) for r in json.load(sys.stdin) if r[0] == '$FILE'))")
echo "binlog: $FILE, $((BYTES / 1048576)) MiB, $N row changes" >&2
echo "$FILE" > "$WORK/binlog_file"  # for bench/oltp_ab.sh

# measure <tool> <rows-from-output: yes|no> <command...>: one run under GNU time, pinned.
measure() {
  local tool="$1" parse="$2"; shift 2
  local out="$WORK/out.txt" t="$WORK/time.txt"
  /usr/bin/time -f '%e %U %S %M' -o "$t" taskset -c "$CPUS" "$@" >"$out" 2>"$WORK/err.txt" || {
    echo "$tool failed:" >&2; tail -20 "$WORK/err.txt" >&2; exit 1; }
  "$BP_PYTHON" - "$tool" "$parse" "$out" "$t" "$N" >>"$RESULTS" <<'PY'
import json, sys
tool, parse, out, t, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
wall, user, sys_, rss = open(t).read().split()[-4:]
r = {"tool": tool, "wall": float(wall), "cpu": float(user) + float(sys_), "peak_rss_kb": int(rss), "rows": n}
if parse == "yes":
    line = [l for l in open(out).read().splitlines() if l.startswith("{")][-1]
    got = json.loads(line)
    rows = got.get("events", got.get("rows"))
    if rows != n:
        sys.exit(f"{tool}: {rows} rows, the workload wrote {n}")
    if "first_event_ms" in got:
        r["first_event_ms"] = got["first_event_ms"]
print(json.dumps(r))
PY
}

config() {  # name schemas
  cat > "$WORK/$1.json" <<JSON
{"name": "$1", "config": {
  "database.hostname": "127.0.0.1", "database.port": "$PORT", "database.user": "bp", "database.password": "bp-pass",
  "topic.prefix": "$DB-$1", "database.include.list": "$DB", "snapshot.mode": "never",
  "key.converter.schemas.enable": "$2", "value.converter.schemas.enable": "$2",
  "kafka.bootstrap.servers": "$BP_KAFKA_BOOTSTRAP", "topic.creation.default.partitions": "3",
  "offset.storage": "file", "offset.storage.file.filename": "$WORK/offsets-$1.json",
  "poll.max.duration.ms": "600000", "poll.max.events": "100000000"}}
JSON
  printf '{"%s": {"epoch": 0, "checkpoint": {"position": {"file": "%s", "pos": 4}}}}' "$1" "$FILE" > "$WORK/offsets-$1.json"
}

for ((i = 1; i <= REPEAT; i++)); do
  echo "round $i of $REPEAT" >&2
  rm -rf "$WORK/raw"; mkdir -p "$WORK/raw"
  measure "$TEXT_TOOL --raw (transfer only)" no \
    "${BINLOG_TOOL[@]}" --read-from-remote-server --host=127.0.0.1 --port="$PORT" --user=bp --password=bp-pass \
      --raw --result-file="$WORK/raw/" "$FILE"
  measure "$TEXT_TOOL -v (decode to text)" no \
    "${BINLOG_TOOL[@]}" --read-from-remote-server --host=127.0.0.1 --port="$PORT" --user=bp --password=bp-pass \
      -v --result-file=/dev/null "$FILE"
  for schemas in on off; do
    name="poller-$schemas-$i"
    config "$name" "$([ $schemas = on ] && echo true || echo false)"
    measure "binlog-poller, schemas $schemas -> Kafka" yes "$BIN" run --once --config "$WORK/$name.json"
  done
  measure "python-mysql-replication (rows to dicts)" yes \
    "$BP_PYTHON" bench/pmr_drain.py --port "$PORT" --user bp --password bp-pass --file "$FILE" --pos 4 --schema "$DB"
  if [ "$SERVER" = mysql ]; then
    classes="$WORK/classes"
    [ -d "$classes" ] || javac -nowarn -d "$classes" -cp "${BP_DEBEZIUM_CLASSPATH%%:*}" bench/DebeziumDrain.java
    measure "Debezium 3.6.3 embedded, JSON, discarded" yes \
      "$BP_JAVA" -cp "${BP_DEBEZIUM_CLASSPATH%%:*}:$classes" DebeziumDrain "$PORT" "$DB" "$N" false "$FILE"
  fi
done

"$BP_PYTHON" - "$RESULTS" "$TEXT_TOOL -v (decode to text)" "$SERVER" "$(echo "$LOAD" | tr -d '\n')" "$BYTES" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
base_name, server, load, size = sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), int(sys.argv[5])
tools = list(dict.fromkeys(r["tool"] for r in runs))
med = {}
for t in tools:
    rs = [r for r in runs if r["tool"] == t]
    walls = sorted(r["wall"] for r in rs)
    med[t] = {
        "rows_per_s": round(statistics.median(r["rows"] / max(r["wall"], 1e-3) for r in rs)),
        "cpu_s_per_100k": round(statistics.median(r["cpu"] * 100000 / r["rows"] for r in rs), 3),
        "peak_rss_mib": round(statistics.median(r["peak_rss_kb"] for r in rs) / 1024, 1),
        "runs": len(rs),
    }
    if any("first_event_ms" in r for r in rs):
        med[t]["first_event_ms"] = statistics.median(r["first_event_ms"] for r in rs if "first_event_ms" in r)
base = med.get(base_name, {}).get("rows_per_s")
print(json.dumps({"server": server, "rows": load["rows"], "transactions": load["transactions"], "binlog_mib": round(size / 1048576)}))
for t in tools:
    m = med[t]
    if base:
        m["x_text_decoder"] = round(m["rows_per_s"] / base, 2)
    print(json.dumps({"tool": t, **m}))
PY
