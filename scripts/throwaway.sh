# Sourced by the scripts that run throwaway servers (e2e-server.sh, e2e-proxies.sh, api-fuzz.sh,
# bench-server.sh): a work directory and the background processes, both gone when the calling
# script exits; free loopback ports; a FerretDB with its data in the work directory.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# `throwaway_begin NAME`: sets `work` (a new directory) and `pids` (append each background pid).
throwaway_begin() {
  work="$(mktemp -d -t "$1.XXXXXX")"
  pids=()
  trap throwaway_end EXIT INT TERM
}

throwaway_end() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# `start_ferretdb PORT [LOG_LEVEL]`: FerretDB (built by setup.sh) on 127.0.0.1:PORT, data and log
# in the work directory.
start_ferretdb() {
  mkdir -p "$work/db"
  .tools/bin/ferretdb --handler=sqlite --sqlite-url="file:$work/db/" --listen-addr="127.0.0.1:$1" \
    --state-dir="$work" --telemetry=disable --debug-addr=- --log-level="${2:-warn}" >"$work/ferretdb.log" 2>&1 &
  pids+=($!)
}
