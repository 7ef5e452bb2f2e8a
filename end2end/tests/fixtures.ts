import { test as base, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Real face media, fetched and checksum-checked by scripts/fetch-media.sh. */
export const MEDIA_DIR = path.resolve(__dirname, '../../.cache/media');

export function y4m(name: string): string {
  const file = path.join(MEDIA_DIR, 'y4m', name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/fetch-media.sh (make media)`);
  }
  return file;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch options for Debian's Chromium with a fake camera playing `file` in a loop. */
export function withCamera(file: string) {
  return {
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
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
  launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
};

/** Every test fails on a console error or an uncaught page error. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (err) => errors.push(String(err)));
      await use(errors);
      expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the camera shows a live picture (which also proves the page hydrated). */
export async function cameraLive(page: Page) {
  await expect(page.locator('.camera')).toHaveAttribute('data-state', 'live');
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(__dirname, '..', 'test-results', 'screenshots', `${name}.png`), fullPage: true });
}
