#!/usr/bin/env bash
# The REST API against its own OpenAPI document: schemathesis sends every operation
# generated inputs (valid and invalid) and checks that nothing answers 5xx and that
# every response matches the status codes, media types, headers and schemas the
# document declares. Called by scripts/test.sh after the build; needs DATABASE_URL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
ensure_schemathesis

PORT="${FOGHORN_API_TEST_PORT:-3410}"
API_DATABASE_URL="$(echo "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://[^/]*/)[^?]*#\1foghorn_api#')"
psql "$DATABASE_URL" -q -c 'DROP DATABASE IF EXISTS foghorn_api WITH (FORCE)' -c 'CREATE DATABASE foghorn_api' >/dev/null

export DATABASE_URL="$API_DATABASE_URL" FOGHORN_LOG=error
BIN="$ROOT/target/debug/foghorn"
"$BIN" migrate >/dev/null
# An administrator's bot: every operation is allowed, so the checks reach past the policy.
TOKEN="$("$BIN" token create --name schemathesis --service admin)"

LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT="$ROOT/target/site" FOGHORN_API_RATE_LIMIT=1000000 \
  FOGHORN_DATA_DIR="$ROOT/target/api-test-data" "$BIN" serve >"$ROOT/target/test-logs/api-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/incidents" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"title": "Checkout errors", "severity": "SEV2"}' >/dev/null
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/action-items" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"incident_number": 1, "title": "Alert on checkout errors"}' >/dev/null

"$TOOLS/schemathesis/bin/st" --config-file "$ROOT/scripts/schemathesis.toml" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${FOGHORN_API_TEST_EXAMPLES:-100}" \
  --seed 20261203 \
  --generation-database none \
  --workers 2 \
  --no-color \
  --report junit --report-dir "$ROOT/target/test-logs/schemathesis"
