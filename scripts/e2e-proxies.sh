#!/usr/bin/env bash
# Started by Playwright (end2end/playwright.config.ts, second webServer): facegate behind Caddy
# over HTTPS, as deploy/Caddyfile ships it, guarding an example application with forward auth
# (docs/forward-auth.md). Names resolve to loopback (`*.facegate.localhost`); every port is a
# free loopback port chosen by the config:
#   https://auth.facegate.localhost:$E2E_HTTPS_PORT   facegate (its own throwaway FerretDB,
#                                                    started by scripts/e2e-server.sh)
#   https://app.facegate.localhost:$E2E_HTTPS_PORT    the whoami page, behind forward_auth
# With E2E_OAUTH2_PROXY_PORT set, also oauth2-proxy with facegate as its OpenID Connect provider:
#   http://127.0.0.1:$E2E_OAUTH2_PROXY_PORT           a page showing the user oauth2-proxy passed on
# Caddy's internal CA lives in a throwaway directory. A missing Caddy or oauth2-proxy fails the
# run: build them with `make proxies`. Everything stops when Playwright ends this script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
https_port="${E2E_HTTPS_PORT:?E2E_HTTPS_PORT is required}"
app_port="${E2E_PROXIED_PORT:?E2E_PROXIED_PORT is required (facegate behind Caddy)}"
caddy=.tools/bin/caddy
if [[ ! -x "$caddy" ]]; then
  echo "e2e-proxies: $caddy is missing: run \`make proxies\` (scripts/build-proxies.sh)" >&2
  exit 1
fi
source scripts/throwaway.sh
throwaway_begin facegate-e2e-proxies

domain=facegate.localhost
auth_host="auth.$domain"
whoami_port="$(free_port)"
# Caddy keeps its CA and certificates under XDG_DATA_HOME: a fresh one per run.
XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
  CADDY_HTTPS_PORT="$https_port" CADDY_HTTP_PORT="$(free_port)" CADDY_BIND=127.0.0.1 CADDY_ADMIN=off \
  FACEGATE_HOST="$auth_host" FACEGATE_UPSTREAM="127.0.0.1:$app_port" \
  APP_HOST="app.$domain" APP_UPSTREAM="127.0.0.1:$whoami_port" WHOAMI_PORT="$whoami_port" \
  "$caddy" run --config deploy/Caddyfile --adapter caddyfile >"$work/caddy.log" 2>&1 &
pids+=($!)
sleep 0.5
if ! kill -0 "${pids[0]}" 2>/dev/null; then
  cat "$work/caddy.log" >&2
  exit 1
fi

facegate_env=()
if [[ -n "${E2E_OAUTH2_PROXY_PORT:-}" ]]; then
  oauth2_proxy=.tools/bin/oauth2-proxy
  if [[ ! -x "$oauth2_proxy" ]]; then
    echo "e2e-proxies: $oauth2_proxy is missing: run \`make proxies\` (scripts/build-proxies.sh)" >&2
    exit 1
  fi
  rp="http://127.0.0.1:$E2E_OAUTH2_PROXY_PORT"
  upstream_port="$(free_port)"
  # The client, registered as docs/oidc.md says: before the server starts, in its clients file.
  clients="$work/oidc-clients.toml"
  client_secret="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  FACEGATE_OIDC_CLIENTS_FILE="$clients" CLIENT_SECRET="$client_secret" "${E2E_BINARY:-target/debug/facegate}" \
    clients add oauth2-proxy --name "Notes" --secret-env CLIENT_SECRET \
    --redirect-uri "$rp/oauth2/callback" --post-logout-redirect-uri "$rp/" >/dev/null
  facegate_env=(FACEGATE_OIDC_CLIENTS_FILE="$clients" FACEGATE_OIDC_KEY_FILE="$work/oidc-keys")
  # The application behind oauth2-proxy: says who oauth2-proxy let in.
  python3 - "$upstream_port" <<'PY' &
import http.server, sys

class Whoami(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        h = self.headers
        body = (f"user {h.get('X-Forwarded-User', '')}\n"
                f"email {h.get('X-Forwarded-Email', '')}\n"
                f"preferred username {h.get('X-Forwarded-Preferred-Username', '')}\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Whoami).serve_forever()
PY
  pids+=($!)
  # The issuer is facegate's public origin, exactly (STACK-NOTES). oauth2-proxy's own requests
  # (token, keys) go straight to facegate on loopback, so it needs neither the *.localhost name
  # nor Caddy's CA; the browser is sent to the public authorization endpoint. facegate does not
  # verify email addresses (email_verified is false): allowed explicitly.
  "$oauth2_proxy" --http-address="127.0.0.1:$E2E_OAUTH2_PROXY_PORT" \
    --provider=oidc --client-id=oauth2-proxy --client-secret="$client_secret" \
    --oidc-issuer-url="https://$auth_host:$https_port" --skip-oidc-discovery \
    --login-url="https://$auth_host:$https_port/oauth2/authorize" \
    --redeem-url="http://127.0.0.1:$app_port/oauth2/token" \
    --oidc-jwks-url="http://127.0.0.1:$app_port/oauth2/jwks" \
    --profile-url="http://127.0.0.1:$app_port/oauth2/userinfo" \
    --redirect-url="$rp/oauth2/callback" --scope="openid profile email" --code-challenge-method=S256 \
    --cookie-secret="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | head -c 32)" --cookie-secure=false \
    --email-domain='*' --insecure-oidc-allow-unverified-email --skip-provider-button \
    --whitelist-domain="$auth_host:$https_port" --upstream="http://127.0.0.1:$upstream_port/" \
    >"$work/oauth2-proxy.log" 2>&1 &
  pids+=($!)
fi

# facegate as the deployment has it: its public address is Caddy's, Caddy is trusted to say
# who the client is, and the applications under facegate.localhost are guarded.
env "${facegate_env[@]}" E2E_PORT="$app_port" FACEGATE_PUBLIC_ORIGIN="https://$auth_host:$https_port" \
  FACEGATE_TRUSTED_PROXIES=127.0.0.1 FACEGATE_FORWARD_AUTH_DOMAINS="$domain" \
  scripts/e2e-server.sh &
pids+=($!)
wait -n "${pids[@]}"
echo "e2e-proxies: a process exited early; Caddy's and oauth2-proxy's logs:" >&2
cat "$work/caddy.log" "$work/oauth2-proxy.log" >&2 2>/dev/null || true
exit 1
