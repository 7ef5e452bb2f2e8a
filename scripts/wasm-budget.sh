#!/usr/bin/env bash
# What the browser downloads, held to a budget (issue #9; docs/benchmarks.md, "What the browser
# downloads"). Builds the release front-end the way `cargo leptos build --release` does
# (scripts/build-site.sh: the same cargo command with the `wasm-release` profile, wasm-bindgen,
# wasm-opt, JS minifying; only the server is skipped), then sums the gzip -9 size of pkg/*.wasm
# and pkg/*.js — what a server that compresses sends — and fails when the sum is over the budget.
#
# It builds into target/site-budget, not target/site: the site `make run` serves and the debug
# build the end-to-end tests use are left alone. The wasm and JS are the same bytes either way
# (the site root is not compiled in).
#
#   scripts/wasm-budget.sh                       budget 420,000 bytes (the goal is 400,000: docs/benchmarks.md)
#   FACEGATE_WASM_BUDGET=390000 scripts/wasm-budget.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Issue #9's goal is 400,000 bytes; passkey management, the OpenID Connect consent page, "Apps you
# signed in to" and the login's return address took the download to 413,334 (2026-12-03). The
# ceiling is 420,000 until the reductions listed in docs/benchmarks.md bring it back under the goal.
budget="${FACEGATE_WASM_BUDGET:-420000}"
site="target/site-budget"

# A stale file from an earlier build must not be counted (nor missed).
rm -rf "$site/pkg"
scripts/build-site.sh --release --frontend-only --site "$site"

shopt -s nullglob
files=("$site"/pkg/*.wasm "$site"/pkg/*.js)
if ((${#files[@]} == 0)); then
  echo "wasm-budget: no .wasm or .js in $site/pkg" >&2
  exit 1
fi
total=0
printf '%-28s %12s %12s\n' file bytes "gzip -9"
for f in "${files[@]}"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  printf '%-28s %12d %12d\n' "${f#"$site"/}" "$raw" "$gz"
done
printf '%-28s %12s %12d   budget %d\n' "wasm + JS" "" "$total" "$budget"
if ((total > budget)); then
  echo "wasm-budget: $((total - budget)) bytes over the budget of $budget (gzip -9 of wasm + JS)" >&2
  exit 1
fi
echo "wasm-budget: within budget, $((budget - total)) bytes to spare"
