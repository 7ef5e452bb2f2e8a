import { test, expect, withCamera, y4m, liveCheck } from './fixtures';

// The live check's own behaviour, apart from accounts: it needs the live socket, not a user. A
// photo keeps the check running (it never passes); a clip that already passed a check would be
// refused at once as a replay.
test.use(withCamera(y4m('franck_still.y4m')));

test('frames stream one at a time and the hint region announces politely', async ({ page }) => {
  await page.goto('/login');
  await expect(liveCheck(page)).toHaveAttribute('data-live-state', 'running');
  const hint = page.getByTestId('live-hint');
  await expect(hint).toHaveAttribute('aria-live', 'polite');
  await expect(hint).toHaveAttribute('data-hint-code', /\w+/);
  const progress = page.getByTestId('live-progress');
  await expect(progress).toHaveAttribute('aria-valuenow', /\d+/);
  await expect(progress).toContainText(/Step \d+ of \d+|All \d+ steps done/);
  await expect(page.getByRole('list', { name: 'Steps of the face check' }).getByRole('listitem').first()).toBeVisible();
});

test('leaving the page mid-check closes the socket and stops the camera', async ({ page }) => {
  await page.addInitScript(() => {
    const sockets: WebSocket[] = [];
    (window as any).__sockets = sockets;
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
  });
  await page.goto('/login');
  await expect(liveCheck(page)).toHaveAttribute('data-live-state', 'running');
  await page.evaluate(() => {
    (window as any).__stream = (document.querySelector('video') as HTMLVideoElement).srcObject;
  });
  // The first client-side navigation after hydration: the one leptos-rs/leptos#2785 is about.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Register' }).click();
  await expect(page).toHaveURL(/\/register$/);
  await expect
    .poll(() => page.evaluate(() => ((window as any).__sockets as WebSocket[]).map((s) => s.readyState)))
    .toEqual([3]); // WebSocket.CLOSED
  await expect
    .poll(() => page.evaluate(() => ((window as any).__stream as MediaStream).getTracks().map((t) => t.readyState)))
    .toEqual(['ended']);
});
