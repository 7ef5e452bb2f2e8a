#!/usr/bin/env bash
# Live-session capacity: a release server on a throwaway FerretDB, then examples/live_load.rs at
# growing numbers of concurrent 5-fps sessions over loopback with real video frames. Prints one
# line per load level. Bounded: each level runs SECONDS (default 20) seconds.
#
#   scripts/bench-live.sh            # levels 1 2 4 8 12 16 24 32
#   LEVELS="4 8" SECONDS_PER_LEVEL=30 scripts/bench-live.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
levels="${LEVELS:-1 2 4 8 12 16 24 32}"
seconds="${SECONDS_PER_LEVEL:-20}"
cargo build --quiet --release --features ssr --bin facegate --example live_load
work="$(mktemp -d -t facegate-bench.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
db_port="$(free_port)"; port="$(free_port)"
mkdir -p "$work/db"
.tools/bin/ferretdb --handler=sqlite --sqlite-url="file:$work/db/" --listen-addr="127.0.0.1:$db_port" \
  --state-dir="$work" --telemetry=disable --debug-addr=- --log-level=error >/dev/null 2>&1 &
pids+=($!)
target/release/facegate keys new --file "$work/template-keys" >/dev/null
# A challenge nobody in the clip completes, so each session streams until its time limit.
MONGODB_URI="mongodb://127.0.0.1:$db_port/" FACEGATE_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
  FACEGATE_TEMPLATE_KEY_FILE="$work/template-keys" \
  FACEGATE_LIVENESS_CHALLENGE=turn_right,turn_left,turn_right,turn_left FACEGATE_LIVE_MAX_SESSIONS=64 \
  target/release/facegate >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.3; done
echo "live-session capacity, $(nproc) cores, face workers: one per core; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for n in $levels; do
  target/release/examples/live_load "http://127.0.0.1:$port" "$n" "$seconds"
done
