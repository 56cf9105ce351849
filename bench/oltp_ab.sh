#!/usr/bin/env bash
# Two builds of binlog-poller on the binlog of the last bench/oltp.sh run, alternating, pinned to
# one core: before/after figures for a change.
#
#   bench/oltp_ab.sh BEFORE_BIN AFTER_BIN      (REPEAT=3 CPUS=0 by default)
#
# AFTER_KEYS (a JSON object of connector keys) is merged into the "after" runs' configuration:
# one build, with and without a setting, e.g. the cost of a transform:
#   AFTER_KEYS='{"transforms": "unwrap", "transforms.unwrap.type":
#     "io.debezium.transforms.ExtractNewRecordState"}' bench/oltp_ab.sh BIN BIN
#
# Prints one JSON line per build and schemas setting: medians of rows/s, CPU seconds per 100k
# rows and peak RSS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BEFORE="$1"; AFTER="$2"
REPEAT="${REPEAT:-3}"; CPUS="${CPUS:-0}"
WORK=$(ls -d target/bench/oltp_* | tail -1)
set -a; . target/dev-services.env; set +a
[ -f "$WORK/binlog_file" ] || { echo "no bench/oltp.sh run in $WORK" >&2; exit 1; }
FILE=$(cat "$WORK/binlog_file")
OUT="$WORK/ab.jsonl"; : > "$OUT"
for ((i = 1; i <= REPEAT; i++)); do
  for schemas in on off; do
    # Alternate who goes first: the broker's memory grows with every run.
    order=$([ $((i % 2)) = 1 ] && echo "before after" || echo "after before")
    for build in $order; do
      bin=$([ $build = before ] && echo "$BEFORE" || echo "$AFTER")
      name="poller-$schemas-1"
      config="$WORK/$name.json"
      if [ $build = after ] && [ -n "${AFTER_KEYS:-}" ]; then
        config="$WORK/$name-after.json"
        "$BP_PYTHON" -c "
import json, sys
c = json.load(open('$WORK/$name.json')); c['config'].update(json.loads(sys.argv[1]))
json.dump(c, open('$config', 'w'))" "$AFTER_KEYS"
      fi
      printf '{"%s": {"epoch": 0, "checkpoint": {"position": {"file": "%s", "pos": 4}}}}' "$name" "$FILE" > "$WORK/offsets-$name.json"
      /usr/bin/time -f '%e %U %S %M' -o "$WORK/ab-time.txt" taskset -c "$CPUS" "$bin" run --once --config "$config" >"$WORK/ab-out.txt" 2>"$WORK/ab-err.txt" \
        || { echo "$build failed:" >&2; tail -5 "$WORK/ab-err.txt" >&2; exit 1; }
      "$BP_PYTHON" -c "
import json
w, u, s, rss = open('$WORK/ab-time.txt').read().split()[-4:]
events = json.loads(open('$WORK/ab-out.txt').read().splitlines()[-1])['events']
print(json.dumps({'build': '$build', 'schemas': '$schemas', 'events': events, 'wall': float(w), 'cpu': float(u) + float(s), 'rss_kb': int(rss)}))" >> "$OUT"
    done
  done
done
"$BP_PYTHON" - "$OUT" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
for schemas in ("on", "off"):
    for build in ("before", "after"):
        rs = [r for r in runs if r["build"] == build and r["schemas"] == schemas]
        print(json.dumps({"build": build, "schemas": schemas, "runs": len(rs),
            "rows_per_s": round(statistics.median(r["events"] / r["wall"] for r in rs)),
            "cpu_s_per_100k": round(statistics.median(r["cpu"] * 1e5 / r["events"] for r in rs), 3),
            "peak_rss_mib": round(statistics.median(r["rss_kb"] for r in rs) / 1024, 1)}))
PY
