#!/usr/bin/env bash
# Builds the reverse proxy and the relying party that the end-to-end tests put in front of
# facegate (docs/forward-auth.md): Caddy (HTTPS with its internal CA, forward_auth) and
# oauth2-proxy (an OpenID Connect client). Both come from the Go module proxy, pinned, into the
# git-ignored .tools/bin/, once per checkout: a binary whose recorded module version is already
# the pinned one is left alone. ~90-100 s each on 2 cores. Run by `scripts/setup.sh --test` and
# `make proxies`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CADDY_MODULE=github.com/caddyserver/caddy/v2
CADDY_VERSION=v2.11.9
OAUTH2_PROXY_MODULE=github.com/oauth2-proxy/oauth2-proxy/v7
OAUTH2_PROXY_VERSION=v7.15.6

log() { printf '\033[1;34mproxies:\033[0m %s\n' "$*"; }
# .tools may be a link to a shared folder not created yet.
mkdir -p "$(readlink -m .tools)/bin"

# `go install` stamps no version into either program's `--version`, but the Go build info keeps
# the main module's: `go version -m` prints `mod <module> <version> <sum>`.
built_version() {
  local binary="$1" module="$2"
  [[ -x "$binary" ]] || return 0
  go version -m "$binary" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }'
}

build() {
  local name="$1" package="$2" module="$3" version="$4"
  local binary="$root/.tools/bin/$name"
  if [[ "$(built_version "$binary" "$module")" == "$version" ]]; then
    return 0
  fi
  log "building $name $version from the Go module proxy (about 100 s on 2 cores)"
  local started=$SECONDS
  # Into a temporary directory first: a failed or interrupted build leaves no half binary.
  local out
  out="$(mktemp -d -t "facegate-$name.XXXXXX")"
  GOBIN="$out" go install -trimpath "$package@$version"
  mv -f "$out/$name" "$binary"
  rm -rf "$out"
  log "$name $version built in $((SECONDS - started)) s"
}

build caddy "$CADDY_MODULE/cmd/caddy" "$CADDY_MODULE" "$CADDY_VERSION"
build oauth2-proxy "$OAUTH2_PROXY_MODULE" "$OAUTH2_PROXY_MODULE" "$OAUTH2_PROXY_VERSION"
