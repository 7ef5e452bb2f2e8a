#!/usr/bin/env bash
# Login capacity: a release server on a throwaway FerretDB, then examples/login_load.rs at
# growing numbers of concurrent clients, each looping complete logins (challenge, 6 s of real
# video frames uploaded, PIN) over loopback. One table row per level; bounded by SECONDS_PER_LEVEL.
# With SOAK_SECONDS set, one long run at SOAK_CLIENTS instead, sampling the server's resident
# memory every 30 s.
#
#   scripts/bench-logins.sh                       # levels 1 2 4 8 16
#   LEVELS="2 4" SECONDS_PER_LEVEL=60 scripts/bench-logins.sh
#   SOAK_SECONDS=600 SOAK_CLIENTS=4 scripts/bench-logins.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
levels="${LEVELS:-1 2 4 8 16}"
seconds="${SECONDS_PER_LEVEL:-60}"
source scripts/bench-server.sh
# The challenge the clip performs; every client is 127.0.0.1, so no per-address throttle. Every
# client logs in as the one person the clips show, and one account's PIN checks run one at a
# time by design (a second gets 429 pin_check_running): the PIN step is left out unless
# LOGIN_SECOND_FACTOR=always (its cost is the difference at one client).
start_bench_server login_load FACEGATE_ALLOW_CLIP_UPLOAD=true FACEGATE_THROTTLE=false FACEGATE_LIVENESS_CHALLENGE=turn_left,blink \
  FACEGATE_SECOND_FACTOR="${LOGIN_SECOND_FACTOR:-off}" FACEGATE_METRICS_TOKEN=bench
# The server re-executes itself in place (same process) to tune OpenBLAS: its pid stays.
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status" 2>/dev/null || echo "?"; }
# The server's CPU time so far (user + system), in seconds: the cost of a login is this
# difference over a level divided by the logins it completed.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$server/stat"; }
echo "complete logins (second factor: ${LOGIN_SECOND_FACTOR:-off}), $(nproc) cores, face workers: one per core; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| clients | logins | logins/s | upload→answer p50 | p95 | p99 | other answers |"
echo "|---|---|---|---|---|---|---|"
if [[ -n "${SOAK_SECONDS:-}" ]]; then
  target/release/examples/login_load "http://127.0.0.1:$port" "${SOAK_CLIENTS:-4}" "$SOAK_SECONDS" &
  load=$!
  while kill -0 "$load" 2>/dev/null; do echo "$(date +%T) server RSS $(rss)"; sleep 30; done
  wait "$load"
  echo "$(date +%T) server RSS $(rss) (end)"
else
  costs=()
  for n in $levels; do
    before="$(cpu_seconds)"
    row="$(target/release/examples/login_load "http://127.0.0.1:$port" "$n" "$seconds")"
    echo "$row"
    logins="$(awk -F'|' 'NR == 1 {gsub(/ /, "", $3); print $3}' <<<"$row")"
    costs+=("$n clients: $(awk -v a="$before" -v b="$(cpu_seconds)" -v n="$logins" \
      'BEGIN {if (n > 0) printf "%.3f core-s per login (%.1f s over %d logins)", (b - a) / n, b - a, n; else print "no login"}')")
  done
  echo
  echo "server CPU per completed login (user + system time of the server process; refused and busy answers included):"
  printf '  %s\n' "${costs[@]}"
  echo "server RSS after the run: $(rss)"
  # Where the face workers' time went, over the whole run: each stage's calls and seconds.
  echo
  echo "face stages over the run (calls, total seconds, mean ms):"
  curl -fs -H 'Authorization: Bearer bench' "http://127.0.0.1:$port/metrics" |
    awk -F'[{}" ]+' '/^facegate_face_stage_seconds_(sum|count)/ {split($1, m, "_"); v[$3 "," m[5]] = $NF; stages[$3] = 1}
      END {for (s in stages) printf "  %-10s %7d calls %8.2f s %6.2f ms\n", s, v[s ",count"], v[s ",sum"], 1000 * v[s ",sum"] / v[s ",count"]}' || true
fi
