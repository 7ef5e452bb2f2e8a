import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium';
import { OIDC, PROXIES } from './proxies';

// The app under test is started by ../scripts/e2e-server.sh: a throwaway FerretDB and the debug
// build from `cargo leptos build`, on E2E_PORT. Chromium is Debian's (a downloaded browser cannot
// be fetched here); its fake camera is fed per test file with real face media (see fixtures.ts).
const port = Number(process.env.E2E_PORT ?? 3107);
// The phone project's server: a database of its own, so the person it registers is new there.
const phonePort = Number(process.env.E2E_PHONE_PORT ?? port + 1);

export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // Debian's Chromium; tests that need a camera launch their own (tests/fixtures.ts).
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
  },
  webServer: [
    {
      command: `E2E_PORT=${port} ../scripts/e2e-server.sh`,
      url: `http://127.0.0.1:${port}/healthz`,
      timeout: 180_000,
      reuseExistingServer: false,
      // SIGTERM lets the script stop FerretDB and delete its throwaway data directory.
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `E2E_PORT=${phonePort} ../scripts/e2e-server.sh`,
      url: `http://127.0.0.1:${phonePort}/healthz`,
      timeout: 180_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      // facegate behind Caddy (HTTPS, forward auth) for tests/proxies.spec.ts.
      command: `E2E_PROXIED_PORT=${PROXIES.facegatePort} E2E_HTTPS_PORT=${PROXIES.httpsPort} ../scripts/e2e-proxies.sh`,
      url: `http://127.0.0.1:${PROXIES.facegatePort}/healthz`,
      timeout: 180_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
  projects: [
    {
      name: 'hydrated',
      use: { javaScriptEnabled: true },
      // relying-party.spec.ts (oauth2-proxy): E2E_OIDC=0 leaves it out.
      testIgnore: OIDC
        ? [/\.nojs\.spec\.ts$/, /phone\.spec\.ts$/]
        : [/\.nojs\.spec\.ts$/, /phone\.spec\.ts$/, /relying-party\.spec\.ts$/],
    },
    {
      // A phone held upright: 360 px wide, touch, a portrait front camera (tests/phone.spec.ts).
      name: 'phone',
      // One retry: the fake camera loops its 15 s clip, and a check still running when the loop
      // starts again sees the same frames twice — refused as `discontinuous`, as it must be (a
      // real camera never repeats a frame). Seen once in four runs on a loaded 2-core machine.
      retries: 1,
      use: {
        baseURL: `http://127.0.0.1:${phonePort}`,
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      },
      testMatch: /phone\.spec\.ts$/,
    },
    { name: 'no-js', use: { javaScriptEnabled: false }, testMatch: /\.nojs\.spec\.ts$/ },
  ],
});
