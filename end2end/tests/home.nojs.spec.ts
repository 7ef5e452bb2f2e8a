import { test, expect, plainBrowser, expectRefusedRequests } from './fixtures';

test.use(plainBrowser);

test('the home page is rendered on the server', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in with your face' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Register' }).first()).toHaveAttribute('href', '/register');
  await expect(page.getByRole('link', { name: 'Log in' }).first()).toHaveAttribute('href', '/login');
});

test('an unknown page is a 404', async ({ page, consoleErrors }) => {
  const response = await page.goto('/no-such-page');
  expectRefusedRequests(consoleErrors, 404);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
