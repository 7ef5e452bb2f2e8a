#!/usr/bin/env bash
# The API fuzzer: schemathesis (PyPI, pinned by scripts/setup.sh --test) generates requests from
# /api/openapi.json and sends them to the real server (the debug binary) on a throwaway FerretDB.
# It fails on any 5xx and on any answer the document does not describe (status, content type,
# headers, body schema). Figures for docs/api.md: the case count and time it prints at the end.
#
#   scripts/api-fuzz.sh            the bounded run `make test` does (FUZZ_MAX_EXAMPLES per operation)
#   FUZZ_MAX_EXAMPLES=200 scripts/api-fuzz.sh   a longer run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version=4.32.5
schemathesis=".tools/schemathesis-$version/bin/schemathesis"
[[ -x "$schemathesis" ]] || { echo "api-fuzz: $schemathesis is missing; run scripts/setup.sh --test" >&2; exit 1; }
binary="${FUZZ_BINARY:-target/debug/facegate}"
[[ -x "$binary" ]] || { echo "api-fuzz: $binary is missing; run cargo build --features ssr" >&2; exit 1; }
max_examples="${FUZZ_MAX_EXAMPLES:-20}"

source scripts/throwaway.sh
throwaway_begin facegate-fuzz
db_port="$(free_port)"
port="$(free_port)"
start_ferretdb "$db_port"
"$binary" keys new --file "$work/template-keys" >/dev/null
# The throttle is off: one client address sending thousands of requests would otherwise test
# little but the 429 (which the document describes, and tests/http_security.rs tests). The
# single-picture form is on, so generated `image` strings reach the picture decoder too.
MONGODB_URI="mongodb://127.0.0.1:$db_port/" FACEGATE_DATABASE=facegate_fuzz \
  FACEGATE_TEMPLATE_KEY_FILE="$work/template-keys" FACEGATE_THROTTLE=false FACEGATE_ALLOW_SINGLE_IMAGE=true \
  FACEGATE_LISTEN="127.0.0.1:$port" RUST_LOG="${RUST_LOG:-warn}" "$binary" >"$work/facegate.log" 2>&1 &
pids+=($!)

for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "api-fuzz: the server did not start" >&2; cat "$work/facegate.log" >&2; exit 1; }

started=$(date +%s)
status=0
"$schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" --seed 17 --workers 2 --request-timeout 30 \
  --suppress-health-check too_slow,filter_too_much \
  || status=$?
echo "api-fuzz: ${max_examples} examples per operation, $(( $(date +%s) - started )) s"
if ((status != 0)); then
  echo "api-fuzz: the server's log:" >&2
  tail -n 50 "$work/facegate.log" >&2
fi
exit "$status"
