import { test as base, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium';

/** Real face media, fetched and checksum-checked by scripts/fetch-media.sh. */
export const MEDIA_DIR = path.resolve(__dirname, '../../.cache/media');

export function y4m(name: string): string {
  const file = path.join(MEDIA_DIR, 'y4m', name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/fetch-media.sh (make media)`);
  }
  return file;
}

/** Launch options for Debian's Chromium with a fake camera playing `file` in a loop. */
export function withCamera(file: string) {
  return {
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        ...CHROMIUM_ARGS,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${file}`,
      ],
    },
  };
}

/** Launch options without any camera flags. */
export const plainBrowser = {
  launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
};

function watchErrors(page: Page, errors: string[]) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
}

/**
 * Every test fails on a console error or an uncaught page error. `cameraPage(file)` opens a page
 * in a browser of its own whose fake camera plays `file` (Chromium takes the camera file only at
 * launch, so a test that needs several cameras gets several browsers).
 */
export const test = base.extend<{ consoleErrors: string[]; cameraPage: (file: string) => Promise<Page> }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      watchErrors(page, errors);
      await use(errors);
      expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
  // The project's viewport and touch settings (the phone project's) reach these pages too.
  cameraPage: async ({ playwright, baseURL, consoleErrors, viewport, isMobile, hasTouch, deviceScaleFactor }, use) => {
    const browsers: import('@playwright/test').Browser[] = [];
    await use(async (file: string) => {
      const browser = await playwright.chromium.launch(withCamera(file).launchOptions);
      browsers.push(browser);
      // A context of its own (not browser.newPage): axe-core opens its helper pages in it.
      const context = await browser.newContext({ baseURL, viewport, isMobile, hasTouch, deviceScaleFactor });
      const page = await context.newPage();
      watchErrors(page, consoleErrors);
      return page;
    });
    for (const browser of browsers) await browser.close();
  },
});

export { expect };

/** Waits until the camera shows a live picture (which also proves the page hydrated). */
export async function cameraLive(page: Page) {
  await expect(page.locator('.camera')).toHaveAttribute('data-state', 'live');
}

/**
 * The longest a live face check may take here, from the camera starting to the verdict: the
 * challenge's lifetime on the e2e server (scripts/e2e-server.sh) plus the page's 2 s of grace,
 * with room for a slow 2-core machine.
 */
export const LIVE_CHECK_MS = 120_000;

/** The live face check component; its `data-live-state` is connecting, running, passed or failed. */
export function liveCheck(page: Page) {
  return page.locator('.live-check');
}

/** The session cookie, if the browser holds one. */
export async function sessionCookie(page: Page) {
  return (await page.context().cookies()).find((c) => c.name === 'facegate_session');
}

/** The WCAG 2.2 AA rule sets (axe-core tags): what `screenshot` holds every facegate page to. */
export const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Axe-core on the page as it is now: fails the test with each violation's rule, impact, help and
 * the elements it found, so the message says what to fix.
 */
export async function expectAccessible(page: Page, state: string) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found, `accessibility violations on ${state} (${page.url()})`).toEqual([]);
}

/**
 * Saves a screenshot of a state worth seeing (docs/screenshots), and checks that state with
 * axe-core: every page and state the suite pictures is also held to WCAG 2.2 AA. `ours: false`
 * for pages of other applications (behind the proxies), which are pictured but not checked.
 */
export async function screenshot(page: Page, name: string, { ours = true } = {}) {
  await page.screenshot({ path: path.join(__dirname, '..', 'test-results', 'screenshots', `${name}.png`), fullPage: true });
  if (ours) await expectAccessible(page, name);
}

/**
 * Chromium logs every HTTP error response as a console error. Where a test expects the server
 * to refuse (409, 401, 422…), it drops exactly those lines; anything else still fails the test.
 */
export function expectRefusedRequests(consoleErrors: string[], status: number) {
  const expected = `the server responded with a status of ${status}`;
  const others = consoleErrors.filter((e) => !e.includes(expected));
  consoleErrors.splice(0, consoleErrors.length, ...others);
}
