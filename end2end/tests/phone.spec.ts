import { test, expect, y4m, cameraLive, liveCheck, screenshot, LIVE_CHECK_MS } from './fixtures';
import type { Locator, Page } from '@playwright/test';

// The phone project (playwright.config.ts): a 360 px wide viewport with touch, and a portrait
// fake camera (franck_phone_*.y4m: the middle 3:4 of the clip at 360x480, as a phone's front
// camera held upright sends it). Its server has a database of its own: Franck is new there.
test.describe.configure({ mode: 'serial' });
test.setTimeout(LIVE_CHECK_MS + 60_000);

const franck = { username: 'Franck', email: 'franck@example.org', pin: '583920' };

/** Nothing wider than the screen: no sideways scrolling on a phone. */
async function expectNoHorizontalScroll(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, 'page wider than the screen').toBeLessThanOrEqual(client);
}

/** Fully on screen horizontally. */
async function expectWithinWidth(element: Locator, width = 360) {
  const box = await element.boundingBox();
  expect(box, 'element has a box').not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(width + 0.5);
}

test('on a phone, Franck registers by touch in front of a portrait camera', async ({ cameraPage }) => {
  const page = await cameraPage(y4m('franck_phone_register.y4m'));
  await page.goto('/register');
  const proceed = page.getByRole('button', { name: 'Continue to the face check' });
  await expect(proceed).toBeEnabled();
  await expectNoHorizontalScroll(page);
  for (const [label, text] of [
    ['Username', franck.username],
    ['Email', franck.email],
    ['PIN (6-12 digits)', franck.pin],
    ['PIN again', franck.pin],
  ]) {
    await page.getByLabel(label).tap();
    await page.getByLabel(label).fill(text);
  }
  await proceed.tap();
  await expect(liveCheck(page)).toHaveAttribute('data-live-state', 'running');
  // The preview and the hint fit the screen while the check runs.
  await expectWithinWidth(page.locator('.camera-video'));
  await expect(page.getByTestId('live-hint')).toBeVisible();
  await expectWithinWidth(page.getByTestId('live-hint'));
  await expectNoHorizontalScroll(page);
  await screenshot(page, 'phone-register-live');
  await expect(page.getByTestId('registered')).toContainText('Registered Franck', { timeout: LIVE_CHECK_MS });
  await expectNoHorizontalScroll(page);
});

test('on a phone, Franck logs in with his face and PIN', async ({ cameraPage }) => {
  const page = await cameraPage(y4m('franck_phone_b.y4m'));
  await page.goto('/login');
  await cameraLive(page);
  await expectWithinWidth(page.locator('.camera-video'));
  await expectNoHorizontalScroll(page);
  const step = page.getByTestId('pin-step');
  await expect(step).toBeVisible({ timeout: LIVE_CHECK_MS });
  await screenshot(page, 'phone-login-pin');
  await step.getByLabel('PIN').tap();
  await step.getByLabel('PIN').fill(franck.pin);
  await step.getByRole('button', { name: 'Log in' }).tap();
  await expect(page).toHaveURL(/\/welcome$/);
  await expect(page.getByTestId('greeting')).toHaveText('Welcome, Franck');
  await expectNoHorizontalScroll(page);
  await screenshot(page, 'phone-welcome');
});
