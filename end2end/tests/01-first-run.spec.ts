import { expect, test } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { ADMIN, DATA_DIR, hydrated } from './helpers';

test('the first visit creates the administrator, who lands signed in on the dashboard', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Welcome to Foghorn' })).toBeVisible();

  // Without the setup code the server printed at start, nobody becomes administrator.
  await page.getByLabel('Setup code').fill('NOT-THE-CODE');
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Name').fill(ADMIN.name);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('.field-error', { hasText: 'That is not the setup code.' })).toBeVisible();

  const code = fs.readFileSync(path.join(DATA_DIR, 'setup-code'), 'utf8').trim();
  await page.getByLabel('Setup code').fill(code);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('.field-error', { hasText: 'Use at least 8 characters.' })).toBeVisible();

  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByRole('banner')).toContainText(ADMIN.name);

  // Set-up is offered only while there is no user.
  await page.goto('/setup');
  await expect(page).not.toHaveURL(/\/setup$/);
});
