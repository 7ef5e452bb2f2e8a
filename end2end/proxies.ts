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

/** facegate behind Caddy, and the application Caddy guards with facegate's forward auth. */
export const PROXIES = {
  httpsPort,
  facegatePort: freePort('E2E_PROXIED_PORT'),
  /** facegate's public origin. */
  auth: `https://auth.facegate.localhost:${httpsPort}`,
  /** The whoami page behind Caddy's forward_auth. */
  app: `https://app.facegate.localhost:${httpsPort}`,
  /** Chromium resolves these names to loopback; Caddy listens on 127.0.0.1 only. */
  resolverRules: '--host-resolver-rules=MAP *.facegate.localhost 127.0.0.1',
};
