#!/usr/bin/env bash
# Benchmarks Foghorn against a bare axum + sqlx handler on this machine and prints
# a table; then a responder's incident page and posts alone and during a public flood
# (64 connections on /status/banner.js); then the all-hands herd (1 000 and 5 000
# people opening one SEV1 within 10 s, as browsers would, and watching it live).
# Not part of the test run. Options go to foghorn-bench, e.g.
#   scripts/bench.sh --duration 20s --subscribers 1000 --posts 100
#   scripts/bench.sh --only public-flood --duration 5s
#   scripts/bench.sh --only herd --people 1000,5000
#
# Database: BENCH_DATABASE_URL, else a `foghorn_bench` database on the PostgreSQL at
# 127.0.0.1:5432 (seeded once: 100 000 incidents, 1 000 000 timeline entries).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_apt wrk postgresql-client
ensure_build_tools
ensure_wasm_opt
say "building (release)"
# The deployable, as README's "Deploying" builds it (the herd fetches its bundle)…
cargo leptos build --release --precompress
# …and the benchmark, with the value cargo-leptos builds with, so they share artifacts.
LEPTOS_OUTPUT_NAME=foghorn cargo build --release -p foghorn-bench

if [ -z "${BENCH_DATABASE_URL:-}" ]; then
  BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:5432/foghorn_bench"
  psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'foghorn_bench'" | grep -q 1 \
    || psql "postgres://postgres@127.0.0.1:5432/postgres" -q -c "CREATE DATABASE foghorn_bench"
fi
# 5 000 live streams need as many sockets on each side, and then some.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

say "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m)"
"$ROOT/target/release/foghorn-bench" --foghorn "$ROOT/target/release/foghorn" --database-url "$BENCH_DATABASE_URL" "$@"
