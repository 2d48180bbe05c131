#!/usr/bin/env bash
# Builds Foghorn (release) and runs it. Without DATABASE_URL it runs on its own
# embedded PostgreSQL in ./foghorn-data. Extra arguments go to `foghorn serve`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_build_tools
ensure_wasm_opt
if [ -z "${DATABASE_URL:-}" ]; then ensure_postgres_server; fi

say "building Foghorn (release)"
cargo leptos build --release --precompress
say "starting Foghorn on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$ROOT/target/site}"
exec "$ROOT/target/release/foghorn" serve "$@"
