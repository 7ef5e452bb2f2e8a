#!/usr/bin/env bash
# Availability under attack (issue 15): honest complete logins (examples/login_load.rs, each
# client its own address behind the trusted proxy 127.0.0.1) alone, then beside each attack of
# examples/front_door_attack.rs run from another loopback address (127.0.0.2; the /64 rotation
# through the proxy). One row per level: honest logins/s against the quiet figure (the goal:
# at least 80 %), and what the attacker got. Loopback only; every level is bounded in count and
# time (SECONDS_PER_LEVEL), and the server and its database are removed at the end.
#
#   scripts/bench-front-door.sh
#   ATTACKS="trickle:4 half-open:1000" SECONDS_PER_LEVEL=30 HONEST_CLIENTS=4 scripts/bench-front-door.sh
#   BENCH_PROFILE=debug scripts/bench-front-door.sh     # without a release build
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${SECONDS_PER_LEVEL:-40}"
clients="${HONEST_CLIENTS:-4}"
attacks="${ATTACKS:-trickle:4 trickle:100 idle-sockets:500 half-open:1000 rotate-v6:10}"
profile="${BENCH_PROFILE:-release}"
release=--release
[[ "$profile" == release ]] || release=
[[ -n "${BENCH_NO_BUILD:-}" ]] || cargo build --quiet $release --features ssr --example front_door_attack
source scripts/bench-server.sh
# The default throttle, admission places and shares, as shipped; the challenge the clip performs;
# no PIN step (one account's PIN checks run one at a time by design, see bench-logins.sh).
start_bench_server login_load FACEGATE_ALLOW_CLIP_UPLOAD=true FACEGATE_TRUSTED_PROXIES=127.0.0.1 \
  FACEGATE_LIVENESS_CHALLENGE=turn_left,blink FACEGATE_SECOND_FACTOR=off
export LOGIN_LOAD_FORWARDED_FOR=198.51.100.
target="http://127.0.0.1:$port"

echo "honest logins: $clients clients (each its own address), ${seconds} s per level, $profile build, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| attack (from one address) | honest logins/s | of quiet | honest p50 | p95 | honest answers other than 200 | what the attacker got | load avg |"
echo "|---|---|---|---|---|---|---|---|"
quiet=""
for level in quiet $attacks; do
  attacker_pid=""
  if [[ "$level" != quiet ]]; then
    kind="${level%%:*}"; count="${level##*:}"
    "$bench_bin/examples/front_door_attack" "$target" "$kind" "$count" "$((seconds + 8))" >"$work/attack.txt" 2>&1 &
    attacker_pid=$!
    pids+=("$attacker_pid")
    sleep 5   # the attack in full swing before the honest clients start
  fi
  row="$("$bench_bin/examples/login_load" "$target" "$clients" "$seconds")"
  [[ -z "$attacker_pid" ]] || wait "$attacker_pid" || true
  # | clients | logins | logins/s | p50 | p95 | p99 | other answers |
  rate="$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$row")"
  p50="$(awk -F'|' '{print $5}' <<<"$row" | xargs)"
  p95="$(awk -F'|' '{print $6}' <<<"$row" | xargs)"
  others="$(awk -F'|' '{print $8}' <<<"$row" | xargs)"
  [[ -n "$quiet" ]] || quiet="$rate"
  share="$(awk -v r="$rate" -v q="$quiet" 'BEGIN { if (q > 0) printf "%.0f %%", 100 * r / q; else print "-" }')"
  got="—"
  [[ "$level" == quiet ]] || got="$(sed 's/^attacker ([^)]*): //' "$work/attack.txt" | tr '\n' ' ' | sed 's/|/\//g')"
  echo "| ${level/:/ ×} | $rate | $share | $p50 | $p95 | $others | $got | $(cut -d' ' -f1 /proc/loadavg) |"
done
echo
echo "server: $(grep -c . "$work/server.log" || true) log lines; RSS $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status" 2>/dev/null || echo ?)"
