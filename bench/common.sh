# Sourced by the bench scripts: the servers up, their addresses in the environment, and the
# binlog-poller build to measure.
#
#   . bench/common.sh   (from the repository root)
#
# Sets BIN: $BP_BENCH_BIN when given (another build, e.g. a previous commit, measured with the
# same script), else a fresh release build. Sets MYSQL97: the command prefix that runs a binary
# of the cached MySQL 9.7 root through that root's own loader (sid's binaries need glibc 2.38+);
# append the binary's path inside the root, e.g. "${MYSQL97[@]}" "$MYSQL_ROOT/usr/bin/mysqldump".
scripts/dev-services.sh up >/dev/null 2>&1
set -a; . target/dev-services.env; set +a
if [ -n "${BP_BENCH_BIN:-}" ]; then
  BIN="$BP_BENCH_BIN"
else
  cargo build --release --quiet --bin binlog-poller
  BIN=target/release/binlog-poller
fi
MYSQL_ROOT="${BP_CACHE_DIR:-$HOME/.cache/binlog-poller}/mysql-9.7-root"
MYSQL97=("$MYSQL_ROOT/usr/lib64/ld-linux-x86-64.so.2"
  --library-path "$MYSQL_ROOT/usr/lib/x86_64-linux-gnu:$MYSQL_ROOT/lib/x86_64-linux-gnu")
