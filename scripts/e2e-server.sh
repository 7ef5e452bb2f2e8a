#!/usr/bin/env bash
# Started by Playwright (end2end/playwright.config.ts, webServer): a throwaway FerretDB on a
# free port with its own data directory, and the debug app built by `cargo leptos build`, on
# E2E_PORT. Both stop, and the data is deleted, when Playwright ends this script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
port="${E2E_PORT:?E2E_PORT is required}"
source scripts/throwaway.sh
throwaway_begin facegate-e2e
db_port="$(free_port)"
start_ferretdb "$db_port"

binary="${E2E_BINARY:-target/debug/facegate}"
"$binary" keys new --file "$work/template-keys" >/dev/null   # face templates are encrypted at rest
# The fake-camera clips are recordings: pin the challenge to what they show (franck and cap12
# turn to their left in them, see scripts/make-live-media.sh), and give a looping clip time.
# Every test browser is 127.0.0.1, one client address: the throttle's budgets are raised (still
# on, so the suite runs with the middleware) instead of weakening the defaults.
MONGODB_URI="mongodb://127.0.0.1:$db_port/" FACEGATE_DATABASE=facegate_e2e FACEGATE_TEMPLATE_KEY_FILE="$work/template-keys" \
  FACEGATE_LIVENESS_CHALLENGE=turn_left FACEGATE_LIVENESS_NONCE_TTL_SECS=60 FACEGATE_LIVE_MAX_FRAMES=600 \
  FACEGATE_THROTTLE_LOGIN_PER_MINUTE=600 FACEGATE_THROTTLE_LOGIN_BURST=100 \
  FACEGATE_THROTTLE_REGISTER_PER_MINUTE=600 FACEGATE_THROTTLE_REGISTER_BURST=100 \
  FACEGATE_THROTTLE_LIVE_PER_MINUTE=600 FACEGATE_THROTTLE_LIVE_BURST=100 \
  FACEGATE_THROTTLE_SECOND_FACTOR_PER_MINUTE=600 FACEGATE_THROTTLE_SECOND_FACTOR_BURST=100 \
  FACEGATE_LISTEN="127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_ENV=PROD \
  RUST_LOG="${RUST_LOG:-info,tower_http=warn}" "$binary" &
pids+=($!)
wait -n "${pids[@]}"
echo "e2e-server: a process exited early" >&2
exit 1
