#!/usr/bin/env bash
# Builds the site the way `cargo leptos build` does for this crate — the hydrate wasm through
# wasm-bindgen into target/site/pkg, the stylesheet, public/ assets, and the server binary — with
# plain cargo, so `make test` and `make run` need no cargo-leptos (a 10-20 minute install on a new
# 2-core machine; `make watch` still uses it). Compiler flags and LEPTOS_OUTPUT_NAME come from
# .cargo/config.toml, identical for the tests and this build, so both share compiled dependencies.
#
#   scripts/build-site.sh                      debug site + target/debug/facegate
#   scripts/build-site.sh --release            release: wasm-release profile, wasm-opt -Oz, minified JS
#   scripts/build-site.sh --frontend-only      the site alone (no server binary)
#   scripts/build-site.sh --site DIR           another site folder (default target/site)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

release=0 frontend_only=0 site=target/site
while (($#)); do
  case "$1" in
    --release) release=1 ;;
    --frontend-only) frontend_only=1 ;;
    --site) site="$2"; shift ;;
    *) echo "build-site: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
name=facegate   # [package.metadata.leptos] output-name
# Also in .cargo/config.toml; set here too so a checkout without it builds a consistent site.
export LEPTOS_OUTPUT_NAME="$name"
pkg="$site/pkg"

front_profile=(); wasm_dir=debug; server_profile=()
if ((release)); then
  front_profile=(--profile=wasm-release); wasm_dir=wasm-release; server_profile=(--release)
fi

# The front end builds into its own target folder, as cargo-leptos does (wasm and host artifacts
# would otherwise evict each other's fingerprints).
cargo build --package=facegate --lib --target-dir=target/front --target=wasm32-unknown-unknown \
  --no-default-features --features=hydrate "${front_profile[@]}"

rm -rf "$site"
mkdir -p "$pkg"
wasm-bindgen --target=web --out-name="$name" --out-dir="$pkg" \
  "target/front/wasm32-unknown-unknown/$wasm_dir/$name.wasm"
# Leptos loads `<name>.wasm` when LEPTOS_OUTPUT_NAME was set at compile time (it is).
mv "$pkg/${name}_bg.wasm" "$pkg/$name.wasm"
rm -f "$pkg/${name}_bg.wasm.d.ts" "$pkg/$name.d.ts"
if ((release)); then
  # cargo-leptos' defaults. Never Debian's binaryen 108: the page would not hydrate (STACK-NOTES).
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg/$name.wasm" -o "$pkg/$name.wasm"
  terser "$pkg/$name.js" --module --compress --mangle --output "$pkg/$name.min.js"
  mv "$pkg/$name.min.js" "$pkg/$name.js"
fi
cp style/main.css "$pkg/$name.css"
cp -r public/. "$site/"

if ((!frontend_only)); then
  cargo build --package=facegate --bin=facegate --no-default-features --features=ssr "${server_profile[@]}"
fi
echo "build-site: $site ready$( ((frontend_only)) || echo ", server built")"
