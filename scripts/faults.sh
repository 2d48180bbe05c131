#!/usr/bin/env bash
# Fault drills: breaks real `foghorn` processes on purpose (kill -9 mid-burst, the
# database restarted under load, the mail server down during a SEV1, one of two
# instances killed) and prints a table of what was done, what was counted and whether
# it held. Not part of the test run; takes a few minutes. Run one drill by name:
#   scripts/faults.sh [kill9] [db] [mail] [two]
#
# Database: a scratch PostgreSQL cluster under target/faults-pg, started and stopped
# here (the drills restart it). Everything listens on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_apt postgresql-client python3
ensure_postgres_server

# --- build: brings the benchmark's release build up to date when there is one (the
# same flags as scripts/bench.sh, so nothing is rebuilt twice), else a debug build ---
if [ -x "$ROOT/target/release/foghorn" ] && [ -z "${FAULTS_DEBUG:-}" ]; then
  say "building (release, as the benchmark does; FAULTS_DEBUG=1 builds debug instead)"
  LEPTOS_OUTPUT_NAME=foghorn cargo build --release -p foghorn --bin foghorn
  FOGHORN_BIN="$ROOT/target/release/foghorn"
else
  say "building (debug)"
  # The flags cargo-leptos builds with, so this shares its artifacts.
  RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=foghorn cargo build -p foghorn --bin foghorn
  FOGHORN_BIN="$ROOT/target/debug/foghorn"
fi

# --- the scratch cluster ------------------------------------------------------------
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PGDATA_DIR="$ROOT/target/faults-pg"
WORK="$ROOT/target/faults"
PG_PORT="${FAULTS_PG_PORT:-54329}"
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
PG_CTL=("$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log")
if [ "$(id -u)" -eq 0 ]; then PG_CTL=(runuser -u postgres -- "${PG_CTL[@]}"); fi

stop_cluster() { "${PG_CTL[@]}" -m immediate -w stop >/dev/null 2>&1 || true; }
trap stop_cluster EXIT

stop_cluster
rm -rf "$PGDATA_DIR" "$WORK"
mkdir -p "$PGDATA_DIR" "$WORK"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PGDATA_DIR"; fi
chmod 700 "$PGDATA_DIR"
run_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
# Options in the cluster's own configuration, so `pg_ctl start` after a drill's stop
# brings back the same server.
cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA_DIR'
max_connections = 200
EOF
say "starting the scratch PostgreSQL on 127.0.0.1:$PG_PORT ($PGDATA_DIR)"
"${PG_CTL[@]}" -w start >/dev/null

# 100 live viewers and their reconnects need sockets.
ulimit -n 8192 2>/dev/null || true
say "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
FOGHORN_BIN="$FOGHORN_BIN" \
FAULTS_SITE_ROOT="$ROOT/target/site" \
FAULTS_WORK="$WORK" \
FAULTS_PG_PORT="$PG_PORT" \
FAULTS_PG_CTL="$(printf '%q ' "${PG_CTL[@]}")" \
  python3 "$ROOT/scripts/faults.py" "$@"
