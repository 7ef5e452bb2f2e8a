import { execFileSync } from 'node:child_process';

// Ports of the proxied stack (scripts/e2e-proxies.sh): free loopback ports, chosen once by the
// runner and kept in its environment, which the test workers inherit (they load the config
// again and must agree with it).
function freePort(name: string): number {
  if (!process.env[name]) {
    const script = 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])';
    process.env[name] = execFileSync('python3', ['-c', script]).toString().trim();
  }
  return Number(process.env[name]);
}

const httpsPort = freePort('E2E_HTTPS_PORT');
const auth = `https://auth.facegate.localhost:${httpsPort}`;

/**
 * oauth2-proxy with facegate as its OpenID Connect provider (tests/relying-party.spec.ts): always
 * on in `make test`; E2E_OIDC=0 leaves it out (and oauth2-proxy unstarted) for a quicker local run.
 */
export const OIDC = process.env.E2E_OIDC !== '0';
const oauth2Proxy = OIDC ? `http://127.0.0.1:${freePort('E2E_OAUTH2_PROXY_PORT')}` : '';

/** facegate behind Caddy, and the application Caddy guards with facegate's forward auth. */
export const PROXIES = {
  httpsPort,
  facegatePort: freePort('E2E_PROXIED_PORT'),
  /** facegate's public origin. */
  auth,
  /** The whoami page behind Caddy's forward_auth. */
  app: `https://app.facegate.localhost:${httpsPort}`,
  /** oauth2-proxy guarding a page (only with OIDC). */
  oauth2Proxy,
  /** facegate's end-session endpoint, where oauth2-proxy's sign-out sends the browser next. */
  oauth2ProxyLogout: `${auth}/oauth2/logout?client_id=oauth2-proxy&post_logout_redirect_uri=${encodeURIComponent(`${oauth2Proxy}/`)}`,
  /** Chromium resolves these names to loopback; Caddy listens on 127.0.0.1 only. */
  resolverRules: '--host-resolver-rules=MAP *.facegate.localhost 127.0.0.1',
};
