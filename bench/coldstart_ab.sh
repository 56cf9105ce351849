#!/usr/bin/env bash
# Cold start of two builds of the Lambda function side by side (docs/benchmarks.md, issue 15):
# "process start to first binlog event published and checkpointed", as bench/lambda.sh part 1
# measures it, for binary A and binary B alternately, each with its own database, connector and
# offsets table, under cargo-lambda's runtime API emulator against the local servers (MySQL).
#
#   bench/coldstart_ab.sh A_POLLER A_CLI B_POLLER B_CLI [STARTS]
#
# A_POLLER/B_POLLER: release builds of functions/poller (`cargo build --release -p poller`) of
# the two commits; A_CLI/B_CLI: the matching `binlog-poller` CLIs (used for `init`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -ge 4 ] || { echo "usage: $0 A_POLLER A_CLI B_POLLER B_CLI [STARTS]" >&2; exit 2; }
scripts/dev-services.sh up >/dev/null 2>&1
set -a; . target/dev-services.env; set +a
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
WORK="target/bench/coldstart_ab_$(date +%s)"; mkdir -p "$WORK"
"$BP_CARGO_LAMBDA" lambda watch --only-lambda-apis --timeout 900 --invoke-port "$PORT" \
  --manifest-path functions/poller/Cargo.toml >"$WORK/watch.log" 2>&1 </dev/null &
WATCH=$!
trap 'kill $WATCH 2>/dev/null || true' EXIT
for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
URL="$BP_MYSQL_URL"
"$BP_PYTHON" bench/coldstart_ab.py --a-name A --a-bin "$1" --a-cli "$2" --b-name B --b-bin "$3" --b-cli "$4" \
  --port "${URL##*:}" --kafka "$BP_KAFKA_BOOTSTRAP" --dynamodb "$BP_AWS_ENDPOINT" \
  --emulator-port "$PORT" --starts "${5:-15}" --work "$WORK"
