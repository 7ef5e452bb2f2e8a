# Sourced by the bench scripts: builds the release server and the named example, then starts a
# throwaway FerretDB and the server on free ports with the given extra environment
# (`start_bench_server EXAMPLE VAR=value…`). Sets `port`, `server` (its pid) and `bench_bin` (the
# binaries' folder); everything is stopped and deleted when the calling script exits.
start_bench_server() {
  local example="$1"; shift
  # BENCH_NO_BUILD=1 reuses the binaries already built; BENCH_PROFILE=debug uses the debug build.
  bench_bin="target/${BENCH_PROFILE:-release}"
  local release=--release
  [[ "${BENCH_PROFILE:-release}" == release ]] || release=
  [[ -n "${BENCH_NO_BUILD:-}" ]] || cargo build --quiet $release --features ssr --bin facegate --example "$example"
  work="$(mktemp -d -t facegate-bench.XXXXXX)"
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
  local db_port
  db_port="$(free_port)"; port="$(free_port)"
  mkdir -p "$work/db"
  .tools/bin/ferretdb --handler=sqlite --sqlite-url="file:$work/db/" --listen-addr="127.0.0.1:$db_port" \
    --state-dir="$work" --telemetry=disable --debug-addr=- --log-level=error >/dev/null 2>&1 &
  pids+=($!)
  "$bench_bin/facegate" keys new --file "$work/template-keys" >/dev/null
  env MONGODB_URI="mongodb://127.0.0.1:$db_port/" FACEGATE_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    FACEGATE_TEMPLATE_KEY_FILE="$work/template-keys" "$@" \
    "$bench_bin/facegate" >"$work/server.log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.3; done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
