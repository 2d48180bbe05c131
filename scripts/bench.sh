#!/usr/bin/env bash
# Benchmarks Foghorn against a bare axum + sqlx handler on this machine and prints
# a table; then a responder's incident page and posts alone and during a public flood
# (64 connections on /status/banner.js). Not part of the test run. Options go to
# foghorn-bench, e.g.
#   scripts/bench.sh --duration 20s --subscribers 1000 --posts 100
#   scripts/bench.sh --only public-flood --duration 5s
#
# Database: BENCH_DATABASE_URL, else a `foghorn_bench` database on the PostgreSQL at
# 127.0.0.1:5432 (seeded once: 100 000 incidents, 1 000 000 timeline entries).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

ensure_apt wrk postgresql-client
say "building (release)"
# The same value cargo-leptos builds with, so the two builds share their artifacts.
LEPTOS_OUTPUT_NAME=foghorn cargo build --release -p foghorn --bin foghorn -p foghorn-bench

if [ -z "${BENCH_DATABASE_URL:-}" ]; then
  BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:5432/foghorn_bench"
  psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'foghorn_bench'" | grep -q 1 \
    || psql "postgres://postgres@127.0.0.1:5432/postgres" -q -c "CREATE DATABASE foghorn_bench"
fi
# 1 000 live subscribers need as many sockets as that, and then some.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 || true

say "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m)"
"$ROOT/target/release/foghorn-bench" --foghorn "$ROOT/target/release/foghorn" --database-url "$BENCH_DATABASE_URL" "$@"
