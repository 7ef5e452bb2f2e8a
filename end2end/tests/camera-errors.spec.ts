import { test, expect, plainBrowser, liveCheck } from './fixtures';

// Each getUserMedia failure a person can meet gets a readable message and a retry button. The
// browser's own failure is simulated by making getUserMedia reject with the DOMException that
// Chromium raises in that situation.
test.use(plainBrowser);

const cases = [
  { name: 'NotAllowedError', says: 'Camera access was refused' },
  { name: 'NotFoundError', says: 'No camera was found' },
  { name: 'NotReadableError', says: 'The camera is in use by another application' },
];

for (const { name, says } of cases) {
  test(`camera failure ${name} is explained`, async ({ page }) => {
    await page.addInitScript((errorName) => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('simulated', errorName));
    }, name);
    await page.goto('/');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(says);
    await expect(alert.getByRole('button', { name: 'Retry' })).toBeVisible();
  });
}

test('without a camera the face check waits for one and opens no connection', async ({ page }) => {
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('simulated', 'NotAllowedError'));
    (window as any).__sockets = 0;
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        (window as any).__sockets += 1;
      }
    };
  });
  await page.goto('/login');
  await expect(page.getByRole('alert')).toContainText('Camera access was refused');
  await expect(liveCheck(page)).toHaveAttribute('data-live-state', 'connecting');
  expect(await page.evaluate(() => (window as any).__sockets)).toBe(0);
});
