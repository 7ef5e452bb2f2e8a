#!/usr/bin/env bash
# `make test`: everything. Format, lints (server and browser builds), unit and integration
# tests against a real FerretDB, then the Playwright suite in Debian's Chromium with a fake
# camera fed from real face media. Stops at the first failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$SECONDS
scripts/setup.sh --test
export PATH="$root/end2end/node_modules/.bin:$root/.tools/bin:$HOME/.cargo/bin:$PATH"
# Where the minutes go: each step's wall time, printed at the end (and kept in target/test-logs).
timings=()
step_name="setup (tools, packages, models, media)"
step_start=$started
step_done() { timings+=("$(printf '%6ds  %s' $((SECONDS - step_start)) "$step_name")"); }
step() {
  step_done
  step_name="$*"
  step_start=$SECONDS
  printf '\n\033[1;34m== %s\033[0m\n' "$*"
}
logs="$root/target/test-logs"
mkdir -p "$logs"

step "format"
cargo fmt --all -- --check

step "clippy (server)"
cargo clippy --features test-support --all-targets -- -D warnings
step "clippy (browser)"
cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings

# Its own site folder (target/site-budget): the debug build below and Playwright are unaffected.
step "what the browser downloads: release wasm + JS within 420 KB gzip (goal 400 KB)"
scripts/wasm-budget.sh 2>&1 | tee "$logs/wasm-budget.log"

step "unit and integration tests (real FerretDB, real photos)"
# One OpenBLAS thread per caller, as the server sets for itself (src/face/blas.rs re-executes
# with it): the test process holds many servers' face workers at once and cannot re-execute.
# Without it a run aborted once with glibc's "corrupted size vs. prev_size" (docs/deploy.md).
OPENBLAS_NUM_THREADS=1 cargo test --features test-support --lib --bins --tests 2>&1 | tee "$logs/cargo-test.log"
rust_passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s += $4} END {print s + 0}')

# Bounded (20 cases per operation, ~2 min): the debug binary the tests just built (docs/api.md).
step "API fuzzer against the OpenAPI document (schemathesis, real server)"
scripts/api-fuzz.sh 2>&1 | tee "$logs/api-fuzz.log"

step "error rates on the small labelled set (facegate eval, docs/accuracy.md)"
scripts/make-eval-set.sh
target/debug/facegate eval .cache/media/eval --out target/eval | tee "$logs/eval.log"

# The server is the target/debug/facegate `cargo test` built above (the integration tests run it);
# building it again with `cargo build` would recompile the dependencies whose features the test
# build unified differently (2+ minutes).
step "build the browser app (scripts/build-site.sh --frontend-only: the debug site, as cargo leptos build)"
scripts/build-site.sh --frontend-only

step "end-to-end (Playwright, Chromium, fake camera)"
(cd end2end && npx playwright test) 2>&1 | tee "$logs/playwright.log"
e2e_passed=$(grep -Eo '^ +[0-9]+ passed' "$logs/playwright.log" | tail -n 1 | awk '{print $1 + 0}')

step_done
echo
printf '%s\n' "${timings[@]}" "$(printf '%6ds  in all' $((SECONDS - started)))" | tee "$logs/timings.txt"
echo
echo "make test: $((rust_passed + e2e_passed)) passed, 0 failed"
