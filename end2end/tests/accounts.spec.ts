import { test, expect, y4m, cameraLive, screenshot, expectRefusedRequests } from './fixtures';
import type { Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

// One database for the whole run: these steps build on each other, in order. Each test feeds
// Chromium's fake camera a real picture (scripts/fetch-media.sh → .cache/media/y4m):
// obama.y4m to register, obama2.y4m (another photo of him) to log in, franck.y4m (another man)
// and noface.y4m (nobody) to be refused.
test.describe.configure({ mode: 'serial' });

const barack = { username: 'Barack', email: 'barack@example.org' };

async function fillForm(page: Page, username: string, email: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(email);
}

async function sessionCookie(page: Page) {
  return (await page.context().cookies()).find((c) => c.name === 'facegate_session');
}

test('registers from a live picture', async ({ cameraPage }) => {
  const page = await cameraPage(y4m('obama.y4m'));
  await page.goto('/register');
  await cameraLive(page);
  await fillForm(page, barack.username, barack.email);
  await page.getByRole('button', { name: 'Capture and register' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Registered Barack' })).toBeVisible();
  await expect(page.getByTestId('registered').getByRole('link', { name: 'Log in now' })).toBeVisible();
  await screenshot(page, 'register');
});

test('the same username again is refused with a toast', async ({ cameraPage, consoleErrors }) => {
  const page = await cameraPage(y4m('obama.y4m'));
  await page.goto('/register');
  await cameraLive(page);
  await fillForm(page, 'barack', 'someone.else@example.org');
  await page.getByRole('button', { name: 'Capture and register' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'The username barack is taken' })).toBeVisible();
  expectRefusedRequests(consoleErrors, 409);
});

test('the form is checked in the browser before anything is sent', async ({ cameraPage }) => {
  const page = await cameraPage(y4m('obama.y4m'));
  await page.goto('/register');
  await cameraLive(page);
  await fillForm(page, 'x', 'not-an-email');
  await page.getByRole('button', { name: 'Capture and register' }).click();
  await expect(page.getByText('Choose a username of 3 to 32 characters.')).toBeVisible();
  await expect(page.getByText('Enter an email address like name@example.org.')).toBeVisible();
  await expect(page.getByTestId('toast').filter({ hasText: 'Fix the username and email first.' })).toBeVisible();
});

test('another photo of the same man logs in, is greeted by name, and logs out', async ({ cameraPage }) => {
  const page = await cameraPage(y4m('obama2.y4m'));
  await page.goto('/login');
  await cameraLive(page);
  await screenshot(page, 'login');
  const started = Date.now();
  await page.getByRole('button', { name: 'Log in with my face' }).click();
  await expect(page).toHaveURL(/\/welcome$/);
  await expect(page.getByTestId('greeting')).toHaveText('Welcome back, Barack');
  const elapsed = Date.now() - started;
  console.log(`capture → welcome page: ${elapsed} ms`);
  fs.mkdirSync(path.join(__dirname, '..', 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '..', 'test-results', 'capture-to-welcome-ms.txt'), `${elapsed}\n`);
  await expect(page.getByText('This is your first sign-in. Welcome!')).toBeVisible();
  await screenshot(page, 'welcome');

  // The session is a cookie the page's scripts cannot read.
  const session = await sessionCookie(page);
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(await sessionCookie(page)).toBeUndefined();
  await page.goto('/welcome');
  await expect(page).toHaveURL(/\/login$/);
});

test('someone else is not recognised and gets no session', async ({ cameraPage, consoleErrors }) => {
  const page = await cameraPage(y4m('franck.y4m'));
  await page.goto('/login');
  await cameraLive(page);
  await page.getByRole('button', { name: 'Log in with my face' }).click();
  await expect(page.getByTestId('login-refused')).toContainText('Face not recognised');
  await expect(page).toHaveURL(/\/login$/);
  expect(await sessionCookie(page)).toBeUndefined();
  await screenshot(page, 'login-refused');
  expectRefusedRequests(consoleErrors, 401);
});

test('an empty picture says that no face was found', async ({ cameraPage, consoleErrors }) => {
  const page = await cameraPage(y4m('noface.y4m'));
  await page.goto('/login');
  await cameraLive(page);
  await page.getByRole('button', { name: 'Log in with my face' }).click();
  await expect(page.getByTestId('login-refused')).toContainText('No face found');
  expectRefusedRequests(consoleErrors, 422);
});

test('the welcome page sends you to log in without a session', async ({ page }) => {
  await page.goto('/welcome');
  await expect(page).toHaveURL(/\/login$/);
});
