import AxeBuilder from '@axe-core/playwright';
import { expect, Locator, Page } from '@playwright/test';
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

/** Declares a SEV3 through the form and waits for its live page; returns its number. */
export async function declare(page: Page, title: string): Promise<number> {
  await page.goto('/incidents/new');
  await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.locator('#severity-SEV3').check();
  await page.getByRole('button', { name: 'Declare incident' }).last().click();
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  await hydrated(page);
  return Number(page.url().match(/INC-(\d+)$/)![1]);
}

/** Runs SQL on the server's database (psql), for set-up too large to click or post
 *  one item at a time: a test's duration must not depend on the machine's speed. */
export function seedDatabase(sql: string) {
  execFileSync('psql', [process.env.FOGHORN_E2E_DATABASE_URL ?? '', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
}

/** The WCAG rules every page is held to: 2.0, 2.1 and 2.2, levels A and AA. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** Runs axe-core over the page as it is now, in the light and the dark theme, and fails
 *  on any violation, naming the rule and the first elements it found. */
export async function expectAccessible(page: Page, where: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
    const found = violations.map(
      (v) =>
        `${v.id}: ${v.help} — ` +
        v.nodes
          .slice(0, 3)
          .map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').split('\n').slice(1).join(' ').trim()})`)
          .join('; '),
    );
    expect(found, `accessibility violations on ${where}, ${colorScheme} theme`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** Presses Tab until `target` has focus (at most `max` times), as a keyboard user
 *  would, and checks the focus can be seen. */
export async function tabTo(page: Page, target: Locator, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) {
      const outline = await target.evaluate((el) => getComputedStyle(el).outlineStyle);
      expect(outline, 'focus is visible').not.toBe('none');
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}
