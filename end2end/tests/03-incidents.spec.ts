import { expect, test } from '@playwright/test';
import { RESPONDER, VIEWER, expectAccessible, hydrated, seedDatabase, signIn } from './helpers';

test('a responder works an incident while a viewer watches it live, read-only', async ({ browser }) => {
  const responder = await (await browser.newContext()).newPage();
  // The viewer reads times in their own zone, named.
  const viewer = await (await browser.newContext({ timezoneId: 'Asia/Tokyo' })).newPage();
  await signIn(responder, RESPONDER);
  await signIn(viewer, VIEWER);

  // The viewer watches the dashboard; a page reload would clear this marker.
  await viewer.evaluate(() => ((window as any).__stillTheSamePage = true));
  await expect(viewer.getByText('Live', { exact: true })).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'Declare incident' })).toHaveCount(0);

  await responder.getByRole('link', { name: 'Declare incident' }).click();
  await hydrated(responder);
  await responder.getByLabel('Title').fill('Checkout is failing');
  await responder.locator('#severity-SEV2').check();
  await responder.getByRole('button', { name: 'Declare incident' }).click();
  await expect(responder).toHaveURL(/\/incidents\/INC-\d+$/);
  await expect(responder.getByRole('heading', { level: 1 })).toContainText('Checkout is failing');

  // The new incident appears on the viewer's dashboard without a reload.
  const row = viewer.getByRole('link', { name: /Checkout is failing/ }).first();
  await expect(row).toBeVisible();
  expect(await viewer.evaluate(() => (window as any).__stillTheSamePage)).toBe(true);

  await row.click();
  await expect(viewer).toHaveURL(responder.url());
  await expect(viewer.getByText('Live', { exact: true })).toBeVisible();
  await viewer.evaluate(() => ((window as any).__stillTheSamePage = true));
  await expect(viewer.locator('.roles')).toContainText('⚠ Unassigned');

  // Read-only: no control to change anything.
  for (const name of ['Take point', 'Take comms', 'Hand off', 'Update status', 'Change severity', 'Post note', 'Correct time']) {
    await expect(viewer.getByRole('button', { name })).toHaveCount(0);
  }
  await expect(viewer.getByRole('textbox')).toHaveCount(0);

  // The responder takes comms and posts a note…
  await responder.getByRole('button', { name: 'Take comms' }).click();
  await expect(responder.locator('.roles')).not.toContainText('Unassigned');
  await responder.getByLabel('Post to the timeline (markdown)').fill('Rolled back **deploy 42**');
  await responder.getByRole('button', { name: 'Post note' }).click();
  await expect(responder.getByLabel('Post to the timeline (markdown)')).toHaveValue('');

  // …and the viewer sees both arrive, without reloading.
  await expect(viewer.locator('.roles')).toContainText(RESPONDER.name);
  await expect(viewer.locator('.roles')).not.toContainText('Unassigned');
  await expect(viewer.locator('.timeline')).toContainText(`${RESPONDER.name} took comms`);
  await expect(viewer.locator('.timeline strong', { hasText: 'deploy 42' })).toBeVisible();
  await expectAccessible(viewer, 'an incident page just after a live update');
  expect(await viewer.evaluate(() => (window as any).__stillTheSamePage)).toBe(true);
  await expect(viewer.locator('.timeline time').first()).toContainText('Asia/Tokyo');
  const utc = await responder.locator('.timeline time').first().getAttribute('datetime');
  const shown = await viewer.locator('.timeline time').first().textContent();
  // Same instant, nine hours ahead.
  const expected = new Date(Date.parse(utc!) + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
  expect(shown).toContain(expected);
});

test('resolving asks for a resolution, and bad input is named next to the field', async ({ page }) => {
  await signIn(page, RESPONDER);
  await page.goto('/incidents/new');
  await hydrated(page);
  await page.getByRole('button', { name: 'Declare incident' }).last().click();
  // Native validation stops an empty title; a blank one gets our message.
  await page.getByLabel('Title').fill('   ');
  await page.locator('#severity-SEV4').check();
  await page.getByRole('button', { name: 'Declare incident' }).last().click();
  await expect(page.locator('.field-error', { hasText: 'Give the incident a title' })).toBeVisible();

  await page.getByLabel('Title').fill('Stale cache on status widget');
  await page.getByRole('button', { name: 'Declare incident' }).last().click();
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  await hydrated(page);

  await page.getByLabel('Status', { exact: true }).selectOption('resolved');
  await page.getByRole('button', { name: 'Update status' }).click();
  await expect(page.locator('.field-error', { hasText: 'Say in a sentence how it was resolved.' })).toBeVisible();
  await page.getByLabel('Resolution summary (required to resolve)').fill('Purged the CDN cache');
  await page.getByRole('button', { name: 'Update status' }).click();
  await expect(page.locator('.badges')).toContainText('Resolved');
  await expect(page.locator('.timeline')).toContainText('resolved the incident: Purged the CDN cache');
});

test('a long timeline shows its latest entries and the earlier ones on request', async ({ page }) => {
  await signIn(page, RESPONDER);
  await page.goto('/incidents/new');
  await hydrated(page);
  await page.getByLabel('Title').fill('Chatty alert bot');
  await page.locator('#severity-SEV4').check();
  await page.getByRole('button', { name: 'Declare incident' }).last().click();
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  const number = page.url().match(/INC-(\d+)$/)![1];

  // The declaration wrote the first entry (or two); 55 notes follow it, written
  // straight into the database in one statement: posting them one by one would make
  // the test's pass or fail depend on how fast the machine is.
  seedDatabase(`
    WITH incident AS (SELECT id, last_seq FROM incidents WHERE number = ${Number(number)}),
    notes AS (
      INSERT INTO timeline_entries (incident_id, seq, kind, author_id, body)
      SELECT incident.id, incident.last_seq + n, 'note', (SELECT id FROM users WHERE email = '${RESPONDER.email}'), 'bot line ' || n
      FROM incident, generate_series(1, 55) AS n
    )
    UPDATE incidents SET last_seq = incidents.last_seq + 55 FROM incident WHERE incidents.id = incident.id`);
  await page.reload();
  await hydrated(page);
  const entries = page.locator('.timeline > li');
  await expect(entries).toHaveCount(50);
  await expect(entries.first()).toContainText('bot line 55');
  const more = page.locator('.timeline-more');
  await expect(more).toContainText(/Showing the latest 50 of 5\d entries\./);

  // The earlier ones arrive in place, without a reload, and stay through a live update.
  await page.evaluate(() => ((window as any).__stillTheSamePage = true));
  await more.getByRole('button', { name: /Show \d earlier entr/ }).click();
  await expect(more).toHaveCount(0);
  await expect(entries.last()).toContainText('declared');
  await page.getByLabel('Post to the timeline (markdown)').fill('still here');
  await page.getByRole('button', { name: 'Post note' }).click();
  await expect(entries.first()).toContainText('still here');
  await page.getByRole('button', { name: 'Take comms' }).click();
  await expect(page.locator('.timeline')).toContainText('took comms');
  await expect(entries.last()).toContainText('declared');
  await expect(page.locator('.timeline-more')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__stillTheSamePage)).toBe(true);
});

test('a private incident is invisible to everyone outside it until point adds them', async ({ browser }) => {
  const responder = await (await browser.newContext()).newPage();
  const viewer = await (await browser.newContext()).newPage();
  await signIn(responder, RESPONDER);
  await signIn(viewer, VIEWER);

  await responder.goto('/incidents/new');
  await hydrated(responder);
  await responder.getByLabel('Title').fill('Suspicious logins on the payroll system');
  await responder.locator('#severity-SEV2').check();
  await responder.getByLabel(/Private: only the people in the response/).check();
  await responder.getByRole('button', { name: 'Declare incident' }).last().click();
  await expect(responder).toHaveURL(/\/incidents\/INC-\d+$/);
  await expect(responder.locator('.incident-head .badge.private')).toHaveText('Private');
  const url = responder.url();

  // The viewer cannot tell it exists: not on the dashboard, not by its address.
  await viewer.goto('/');
  await expect(viewer.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(viewer.getByText('Suspicious logins')).toHaveCount(0);
  const refused = await viewer.goto(url);
  expect(refused?.status()).toBe(404);
  await expect(viewer.getByText('Suspicious logins')).toHaveCount(0);

  // Point adds them by name; the timeline says so, and now they see it.
  await hydrated(responder);
  await responder.getByLabel('Add to the response').selectOption({ label: VIEWER.name });
  await responder.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(responder.locator('.timeline')).toContainText(`added ${VIEWER.name} to the response`);
  const allowed = await viewer.goto(url);
  expect(allowed?.status()).toBe(200);
  await expect(viewer.getByRole('heading', { level: 1 })).toContainText('Suspicious logins on the payroll system');
});
