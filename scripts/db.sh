#!/usr/bin/env bash
# The local MongoDB-compatible database: FerretDB with its SQLite backend, on 127.0.0.1.
#
#   scripts/db.sh start   start it (no-op when it already runs); data in data/ferretdb/
#   scripts/db.sh stop    stop it
#   scripts/db.sh status  say whether it runs
#
# Environment: FACEGATE_DB_PORT (default 27018, so a real mongod on 27017 is left alone),
# FACEGATE_DATA_DIR (default data/ under the repo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${FACEGATE_DB_PORT:-27018}"
data="${FACEGATE_DATA_DIR:-$root/data}"
pidfile="$data/ferretdb.pid"
ferretdb="$root/.tools/bin/ferretdb"

# Running means: the recorded process exists, is FerretDB, and has not exited. `kill -0` alone
# is not enough: a FerretDB that died but was never reaped (its parent, this script, is gone and
# not every container's init reaps orphans) still answers it, as a zombie.
running() {
  local pid state
  pid="$(cat "$pidfile" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q ferretdb
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then
      echo "db: FerretDB already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
      exit 0
    fi
    [[ -x "$ferretdb" ]] || { echo "db: $ferretdb is missing; run scripts/setup.sh" >&2; exit 1; }
    if port_open "$port"; then
      echo "db: 127.0.0.1:$port is taken by another program; set FACEGATE_DB_PORT, or MONGODB_URI to use that server" >&2
      exit 1
    fi
    mkdir -p "$data/ferretdb" "$data/ferretdb-state"
    nohup "$ferretdb" --handler=sqlite --sqlite-url="file:$data/ferretdb/" \
      --listen-addr="127.0.0.1:$port" --state-dir="$data/ferretdb-state" \
      --telemetry=disable --debug-addr=- --log-level=warn \
      >>"$data/ferretdb.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 100); do
      port_open "$port" && { echo "db: FerretDB listening on 127.0.0.1:$port (data in $data/ferretdb)"; exit 0; }
      running || break
      sleep 0.1
    done
    echo "db: FerretDB did not start; see $data/ferretdb.log" >&2
    tail -n 20 "$data/ferretdb.log" >&2 || true
    exit 1
    ;;
  stop)
    if running; then
      kill "$(cat "$pidfile")"
      echo "db: FerretDB stopped"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running; then echo "db: running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; else echo "db: not running"; exit 1; fi
    ;;
  *)
    echo "usage: scripts/db.sh start|stop|status" >&2
    exit 2
    ;;
esac
