import { test, expect, y4m, screenshot, LIVE_CHECK_MS } from './fixtures';
import { ProxiedBrowsers } from './proxied';
import { PROXIES } from '../proxies';
import type { Page } from '@playwright/test';

// oauth2-proxy v7.15.6 (built by scripts/build-proxies.sh, started by scripts/e2e-proxies.sh)
// with facegate as its OpenID Connect provider, guarding a small page that shows the user
// oauth2-proxy passed on (X-Forwarded-User / -Email / -Preferred-Username). facegate is the
// proxied instance behind Caddy (its issuer is https://auth.facegate.localhost:PORT), where
// tests/proxies.spec.ts registered Franck: files run in alphabetical order, one worker, so this
// one (relying-party) comes after it.
test.describe.configure({ mode: 'serial' });
test.setTimeout(LIVE_CHECK_MS + 60_000);

const franck = { username: 'Franck', email: 'franck@example.org', pin: '583920' };
const protectedPage = `${PROXIES.oauth2Proxy}/notes?id=7`;

const browsers = new ProxiedBrowsers();
test.afterAll(async () => browsers.closeAll());
const proxiedPage = (file: string, errors: string[]) => browsers.page(file, errors);

test('oauth2-proxy sends Franck to facegate: face check, PIN, consent, and back; logout ends both', async () => {
  const errors: string[] = [];
  const page = await proxiedPage(y4m('franck_live_c.y4m'), errors);
  const started = Date.now();
  await page.goto(protectedPage);
  // oauth2-proxy → facegate's authorization endpoint → its login page.
  await expect(page).toHaveURL(new RegExp(`^${PROXIES.auth.replace(/[.]/g, '\\.')}/login\\?return_to=%2Foauth2%2Fauthorize`));
  await expect(page.locator('.camera')).toHaveAttribute('data-state', 'live');
  const cameraLive = Date.now();
  const step = page.getByTestId('pin-step');
  await expect(step).toBeVisible({ timeout: LIVE_CHECK_MS });
  await step.getByLabel('PIN').fill(franck.pin);
  await step.getByRole('button', { name: 'Log in' }).click();
  const pinSent = Date.now();
  // The first sign-in to this client asks for consent.
  const allow = page.getByRole('button', { name: /allow/i });
  await expect(allow).toBeVisible();
  await screenshot(page, 'oidc-consent');
  await allow.click();
  await expect(page).toHaveURL(protectedPage);
  // oauth2-proxy passes on the ID token's claims: `sub` (facegate's stable user id) as the user,
  // the email, and the name as the preferred username.
  const body = page.locator('body');
  await expect(body).toContainText(`preferred username ${franck.username}`);
  await expect(body).toContainText(`email ${franck.email}`);
  await expect(body).toContainText(/user [0-9a-f]{24}\b/);
  const back = Date.now();
  console.log(
    `oauth2-proxy round trip: ${back - started} ms in all (to the camera ${cameraLive - started} ms, ` +
      `live check + PIN prompt ${pinSent - cameraLive} ms, PIN sent → consent → back ${back - pinSent} ms)`,
  );
  await screenshot(page, 'oauth2-proxy-app', { ours: false });

  // Logging out through oauth2-proxy also ends the facegate session (RP-initiated logout).
  await page.goto(`${PROXIES.oauth2Proxy}/oauth2/sign_out?rd=${encodeURIComponent(PROXIES.oauth2ProxyLogout)}`);
  await page.goto(`${PROXIES.auth}/welcome`);
  await expect(page).toHaveURL(`${PROXIES.auth}/login`);
  await page.goto(protectedPage);
  await expect(page).toHaveURL(new RegExp(`^${PROXIES.auth.replace(/[.]/g, '\\.')}/login`));
  expect(errors).toEqual([]);
});
