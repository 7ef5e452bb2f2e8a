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
  throwaway_begin facegate-bench
  local db_port
  db_port="$(free_port)"; port="$(free_port)"
  start_ferretdb "$db_port" error
  "$bench_bin/facegate" keys new --file "$work/template-keys" >/dev/null
  env MONGODB_URI="mongodb://127.0.0.1:$db_port/" FACEGATE_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    FACEGATE_TEMPLATE_KEY_FILE="$work/template-keys" "$@" \
    "$bench_bin/facegate" >"$work/server.log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.3; done
}

source "$(dirname "${BASH_SOURCE[0]}")/throwaway.sh"
