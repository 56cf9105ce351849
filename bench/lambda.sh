#!/usr/bin/env bash
# The Lambda function's figures (docs/benchmarks.md, issue 6):
#   - the size of the arm64 bootstrap that `cargo lambda build --release --arm64` ships, and
#     of its zip;
#   - process start to the first binlog event published and checkpointed;
#   - peak RSS and CPU time of one invocation draining ROWS (default 500,000) events.
# The last two run the x86_64 release build of the same function (this machine's
# architecture) under cargo-lambda's runtime API emulator, against the local servers.
#
#   bench/lambda.sh [mysql|mariadb]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SERVER="${1:-mysql}"
scripts/dev-services.sh up >/dev/null 2>&1
set -a; . target/dev-services.env; set +a
case "$SERVER" in
  mysql) URL="$BP_MYSQL_URL" ;;
  mariadb) URL="$BP_MARIADB_URL" ;;
  *) echo "usage: $0 [mysql|mariadb]" >&2; exit 2 ;;
esac

# cargo-lambda finds zig (the cross linker) through the venv's ziglang package.
PATH="$(dirname "$BP_CARGO_LAMBDA"):$PATH" "$BP_CARGO_LAMBDA" lambda build --release --arm64 -p poller --quiet
ARM=target/lambda/poller/bootstrap
"$BP_PYTHON" - "$ARM" <<'PY'
import json, os, sys, zipfile, io
path = sys.argv[1]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(path, "bootstrap")
print(json.dumps({"measure": "bootstrap size (aarch64, release)", "bytes": os.path.getsize(path),
                  "mib": round(os.path.getsize(path) / 1048576, 2), "zip_mib": round(len(buf.getvalue()) / 1048576, 2)}))
PY

cargo build --release --quiet -p poller --bin poller
cargo build --release --quiet --bin binlog-poller

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
WORK="target/bench/lambda_$(date +%s)"; mkdir -p "$WORK"
"$BP_CARGO_LAMBDA" lambda watch --only-lambda-apis --timeout 900 --invoke-port "$PORT" \
  --manifest-path functions/poller/Cargo.toml >"$WORK/watch.log" 2>&1 </dev/null &
WATCH=$!
trap 'kill $WATCH 2>/dev/null || true' EXIT
for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

"$BP_PYTHON" bench/lambda_bench.py --bin target/release/poller --cli target/release/binlog-poller \
  --port "${URL##*:}" --kafka "$BP_KAFKA_BOOTSTRAP" --dynamodb "$BP_AWS_ENDPOINT" \
  --emulator-port "$PORT" --server "$SERVER" --rows "${ROWS:-500000}" --work "$WORK"
