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
source scripts/bench-server.sh
# A challenge nobody in the clip completes, so each session streams until its time limit.
start_bench_server live_load \
  FACEGATE_LIVENESS_CHALLENGE=turn_right,turn_left,turn_right,turn_left FACEGATE_LIVE_MAX_SESSIONS=64
echo "live-session capacity, $(nproc) cores, face workers: one per core; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for n in $levels; do
  target/release/examples/live_load "http://127.0.0.1:$port" "$n" "$seconds"
done
