import { test, expect, y4m, screenshot, LIVE_CHECK_MS } from './fixtures';
import { ProxiedBrowsers } from './proxied';
import { PROXIES } from '../proxies';
import type { Page } from '@playwright/test';

// facegate behind Caddy over HTTPS (deploy/Caddyfile, started by scripts/e2e-proxies.sh), and
// an application that Caddy guards with facegate's forward auth: the whoami page answers with
// the user Caddy passed on. The proxied facegate has its own database, so Franck registers
// there first. Chromium's fake camera plays the same real clips as tests/accounts.spec.ts.
test.describe.configure({ mode: 'serial' });
test.setTimeout(LIVE_CHECK_MS + 60_000);

const franck = { username: 'Franck', email: 'franck@example.org', pin: '583920' };
const protectedPage = `${PROXIES.app}/reports/2026?quarter=4`;
const whoami = `Signed in as ${franck.username} <${franck.email}>, name ${franck.username}`;

const browsers = new ProxiedBrowsers();
test.afterAll(async () => browsers.closeAll());
const proxiedPage = (file: string, errors: string[]) => browsers.page(file, errors);

async function enterPin(page: Page) {
  const step = page.getByTestId('pin-step');
  await expect(step).toBeVisible({ timeout: LIVE_CHECK_MS });
  await step.getByLabel('PIN').fill(franck.pin);
  await step.getByRole('button', { name: 'Log in' }).click();
}

function loginUrlFor(target: string) {
  return `${PROXIES.auth}/login?return_to=${encodeURIComponent(target)}`;
}

test('Franck registers on facegate served over HTTPS by Caddy', async () => {
  const errors: string[] = [];
  const page = await proxiedPage(y4m('franck_live_a.y4m'), errors);
  await page.goto(`${PROXIES.auth}/register`);
  const next = page.getByRole('button', { name: 'Continue to the face check' });
  await expect(next).toBeEnabled();
  await page.getByLabel('Username').fill(franck.username);
  await page.getByLabel('Email').fill(franck.email);
  await page.getByLabel('PIN (6-12 digits)').fill(franck.pin);
  await page.getByLabel('PIN again').fill(franck.pin);
  await next.click();
  await expect(page.getByTestId('registered')).toContainText('Registered Franck', { timeout: LIVE_CHECK_MS });
  // Caddy adds HSTS (checked from the browser: only it resolves *.facegate.localhost).
  const response = await page.goto(`${PROXIES.auth}/healthz`);
  expect(response?.headers()['strict-transport-security']).toContain('max-age=');
  expect(errors).toEqual([]);
});

test('an app behind Caddy forward_auth sends Franck through the face check and PIN, and back', async () => {
  const errors: string[] = [];
  const page = await proxiedPage(y4m('franck_live_b.y4m'), errors);
  const started = Date.now();
  await page.goto(protectedPage);
  // Not signed in: Caddy hands on facegate's redirect to its login, remembering the page.
  await expect(page).toHaveURL(loginUrlFor(protectedPage));
  await expect(page.locator('.camera')).toHaveAttribute('data-state', 'live');
  const cameraLive = Date.now();
  await enterPin(page);
  const pinSent = Date.now();
  await expect(page).toHaveURL(protectedPage);
  await expect(page.locator('body')).toHaveText(whoami);
  const back = Date.now();
  console.log(
    `forward auth round trip: ${back - started} ms in all (to the camera ${cameraLive - started} ms, ` +
      `live check + PIN prompt ${pinSent - cameraLive} ms, PIN sent → back on the app ${back - pinSent} ms)`,
  );
  await screenshot(page, 'forward-auth-app', { ours: false });

  // facegate's own cookie stays host-only; the app's domain gets its own, narrower cookie.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === '__Host-facegate_session');
  expect(session?.domain).toBe('auth.facegate.localhost');
  expect(session?.secure).toBe(true);
  const forward = cookies.find((c) => c.name === '__Secure-facegate_forward');
  expect(forward?.domain).toBe('.facegate.localhost');
  expect(forward?.httpOnly).toBe(true);
  expect(forward?.secure).toBe(true);
  expect(forward?.value).not.toBe(session?.value);

  // A header the browser sends itself does not pass for the user: Caddy replaces it.
  await page.setExtraHTTPHeaders({ 'Remote-User': 'mallory', 'Remote-Email': 'mallory@example.org' });
  await page.goto(protectedPage);
  await expect(page.locator('body')).toHaveText(whoami);
  await page.setExtraHTTPHeaders({});

  // Without the forward cookie (another browser tab's domain, a restarted facegate): back
  // through facegate, which — still signed in — hands out a new one with no face check.
  await page.context().clearCookies({ name: '__Secure-facegate_forward' });
  const hop = Date.now();
  await page.goto(protectedPage);
  await expect(page.locator('body')).toHaveText(whoami);
  console.log(`signed in to facegate, no app cookie: app → facegate → app in ${Date.now() - hop} ms`);

  // Logging out of facegate ends access to the app too.
  await page.goto(`${PROXIES.auth}/welcome`);
  await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(`${PROXIES.auth}/login`);
  await page.goto(protectedPage);
  await expect(page).toHaveURL(loginUrlFor(protectedPage));
  expect(errors).toEqual([]);
});

test('a stranger sending the user headers himself is still sent to the login', async () => {
  const errors: string[] = [];
  const page = await proxiedPage(y4m('cap12_live.y4m'), errors);
  await page.setExtraHTTPHeaders({ 'Remote-User': 'Franck', 'Remote-Email': franck.email });
  await page.goto(protectedPage);
  await expect(page).toHaveURL(loginUrlFor(protectedPage));
  expect(errors).toEqual([]);
});
