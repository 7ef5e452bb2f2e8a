import { test, expect, plainBrowser } from './fixtures';

test.use(plainBrowser);

test('without JavaScript the welcome page redirects to login on the server', async ({ page }) => {
  const response = await page.goto('/welcome');
  expect(page.url()).toMatch(/\/login$/);
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
});
