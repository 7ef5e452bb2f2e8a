#!/usr/bin/env bash
# `make run`: install what is missing, start the local database (unless MONGODB_URI is set),
# build the release app and serve it in the foreground. Ctrl-C stops the app and the database
# this script started; the data stays in data/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"   # wasm-opt from npm binaryen

started_db=0
if [[ -z "${MONGODB_URI:-}" ]]; then
  if ! scripts/db.sh status >/dev/null 2>&1; then
    scripts/db.sh start
    started_db=1
  fi
  export MONGODB_URI="mongodb://127.0.0.1:${FACEGATE_DB_PORT:-27018}/"
else
  echo "run: using the database at MONGODB_URI (the local FerretDB is not started)"
fi
# A local database that dies while the app runs is started again (the app reconnects by itself).
watcher=""
if ((started_db)); then
  (while sleep 5; do
    scripts/db.sh status >/dev/null 2>&1 || { echo "run: the local database stopped; restarting it" >&2; scripts/db.sh start >&2 || true; }
  done) &
  watcher=$!
fi
cleanup() {
  [[ -n "$watcher" ]] && kill "$watcher" 2>/dev/null
  ((started_db)) && scripts/db.sh stop || true
}
trap cleanup EXIT

scripts/build-site.sh --release
# Face encodings are stored encrypted (docs/security.md). The local key lives beside the local
# data (data/ is not committed); made once, when FACEGATE_TEMPLATE_KEY_FILE names no other file.
if [[ -z "${FACEGATE_TEMPLATE_KEY_FILE:-}" && ! -e data/template-keys ]]; then
  mkdir -p data
  target/release/facegate keys new --file data/template-keys
fi
addr="${FACEGATE_LISTEN:-${LEPTOS_SITE_ADDR:-127.0.0.1:3000}}"
# Browsers offer passkeys only on a domain name: on this machine that is localhost.
shown="${addr/#127.0.0.1:/localhost:}"
echo
echo "  facegate: open http://$shown   (Ctrl-C to stop)"
echo
target/release/facegate
