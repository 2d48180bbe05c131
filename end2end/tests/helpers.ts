import { expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
export { API_HEADERS, DATA_DIR } from '../playwright.config';

export const ADMIN = { email: 'ada@example.com', name: 'Ada Admin', password: 'first admin passphrase' };
export const RESPONDER = { email: 'rita@example.com', name: 'Rita Responder', password: 'responder passphrase' };
export const VIEWER = { email: 'vic@example.com', name: 'Vic Viewer', password: 'viewer passphrase' };

/** Clicks before hydration land on inert server HTML: wait for the app to be live. */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated]').waitFor();
}

export async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
}

export async function signOut(page: Page) {
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Runs SQL on the server's database (psql), for set-up too large to click or post
 *  one item at a time: a test's duration must not depend on the machine's speed. */
export function seedDatabase(sql: string) {
  execFileSync('psql', [process.env.FOGHORN_E2E_DATABASE_URL ?? '', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
}
