#!/usr/bin/env bash
# Installs what is missing, builds Foghorn, and runs every test: integration tests
# against PostgreSQL, then the browser tests in Chromium.
#
# Database: DATABASE_URL if set; else the PostgreSQL on 127.0.0.1:5432 if one answers
# (user postgres, trust auth); else a private throwaway cluster under target/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_apt chromium postgresql-client curl
ensure_build_tools
ensure_sqlx_cli
ensure_postgres_server

# --- database -----------------------------------------------------------------
PRIVATE_CLUSTER=""
stop_private_cluster() {
  if [ -n "$PRIVATE_CLUSTER" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PRIVATE_CLUSTER" -m fast -w stop >/dev/null || true
  fi
}
trap stop_private_cluster EXIT

run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${DATABASE_URL:-}" ]; then
  if [ -z "${FOGHORN_TEST_PRIVATE_DB:-}" ] && psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc 'SELECT 1' >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    PRIVATE_CLUSTER="$ROOT/target/test-pg"
    say "starting a private PostgreSQL for the tests in $PRIVATE_CLUSTER"
    rm -rf "$PRIVATE_CLUSTER"
    mkdir -p "$PRIVATE_CLUSTER"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PRIVATE_CLUSTER"; fi
    chmod 700 "$PRIVATE_CLUSTER"
    run_pg "$PG_BIN/initdb" -D "$PRIVATE_CLUSTER" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
    run_pg "$PG_BIN/pg_ctl" -D "$PRIVATE_CLUSTER" -l "$PRIVATE_CLUSTER/server.log" -w \
      -o "-c listen_addresses='' -c unix_socket_directories='$PRIVATE_CLUSTER' -c max_connections=200" start >/dev/null
    # sqlx wants a host in the URL; the host parameter then points at the socket.
    export DATABASE_URL="postgres://postgres@localhost/postgres?host=$PRIVATE_CLUSTER"
  fi
fi
E2E_DATABASE_URL="$(echo "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://[^/]*/)[^?]*#\1foghorn_e2e#')"

# --- compile-checked SQL --------------------------------------------------------------
# Builds read the query metadata committed in .sqlx/; it must match the queries and the
# migrated schema, or a stale copy would hide a broken query until run time.
say "checking the committed query metadata (.sqlx) against the queries and migrations"
SQLX_CHECK_URL="$(echo "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://[^/]*/)[^?]*#\1foghorn_sqlx_check#')"
cargo sqlx database reset -y --database-url "$SQLX_CHECK_URL" --source migrations >/dev/null
RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=foghorn DATABASE_URL="$SQLX_CHECK_URL" \
  cargo sqlx prepare --workspace --check -- -p foghorn -p foghorn-bench

# --- build ----------------------------------------------------------------------
say "building Foghorn"
cargo leptos build

# cargo-leptos compiles debug builds with these set. `cargo test` must use the same:
# otherwise it rebuilds every Leptos crate, and replaces the server binary with one
# whose HTML no longer matches the browser bundle (hydration then fails).
export RUSTFLAGS="--cfg erase_components"
export LEPTOS_OUTPUT_NAME=foghorn

# The browser tests' tools, and the OpenID Connect provider the single sign-on tests
# (integration and browser) run: installed before either.
(
  cd end2end
  # Install when any test dependency (Playwright, axe-core, oidc-provider) is missing or not the pinned version.
  if ! node -e "const d = require('./package.json').devDependencies;
      const v = (n) => JSON.parse(require('fs').readFileSync('node_modules/' + n + '/package.json', 'utf8')).version;
      process.exit(Object.keys(d).every((n) => v(n) === d[n]) ? 0 : 1)" 2>/dev/null; then
    npm ci --no-audit --no-fund --silent
  fi
)

# --- integration tests ------------------------------------------------------------
say "integration tests (PostgreSQL)"
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
cargo test -p app -p foghorn 2>&1 | tee "$LOGS/cargo.log"

# --- the REST API against its OpenAPI document ---------------------------------------
say "REST API conformance (schemathesis)"
bash "$ROOT/scripts/api_conformance.sh" 2>&1 | tee "$LOGS/schemathesis.log"

# --- browser tests -----------------------------------------------------------------
say "browser tests (Chromium)"
psql "$DATABASE_URL" -q -c 'DROP DATABASE IF EXISTS foghorn_e2e WITH (FORCE)' -c 'CREATE DATABASE foghorn_e2e' >/dev/null
(
  cd end2end
  FOGHORN_E2E_DATABASE_URL="$E2E_DATABASE_URL" \
  FOGHORN_BIN="$ROOT/target/debug/foghorn" \
  LEPTOS_SITE_ROOT="$ROOT/target/site" \
    npx playwright test 2>&1 | tee "$LOGS/playwright.log"
)
integration="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$LOGS/cargo.log" | awk '{s+=$1} END {print s+0}')"
browser="$(sed -n 's/^ *\([0-9]*\) passed.*/\1/p' "$LOGS/playwright.log" | tail -1)"
api="$(sed -n 's/^ *\([0-9]*\) generated, \([0-9]*\) passed.*/\2/p' "$LOGS/schemathesis.log" | tail -1)"
say "all tests passed: $integration integration, ${api:-0} generated API cases, $browser in the browser"
echo "$((integration + browser)) passed, 0 failed"
