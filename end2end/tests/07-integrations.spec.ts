import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN, RESPONDER, hydrated, signIn } from './helpers';

const firing = readFileSync(path.resolve(__dirname, '../../server/tests/fixtures/alerts/alertmanager_firing.json'), 'utf8');

test('a responder creates an API token on the account page, uses it, and revokes it', async ({ page, request }) => {
  await signIn(page, RESPONDER);
  await page.goto('/account');
  await hydrated(page);
  const tokens = page.locator('section', { has: page.getByRole('heading', { name: 'API tokens' }) });
  await tokens.getByLabel('Name (what uses it)').fill('deploy script');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = await tokens.getByLabel(/copy it now/).inputValue();
  expect(secret).toMatch(/^fhn_[0-9a-f]{64}$/);
  await expect(tokens.getByRole('cell', { name: 'deploy script', exact: true })).toBeVisible();

  // The token works on its own, without the browser's session.
  const bearer = { authorization: `Bearer ${secret}` };
  const listed = await request.get('/api/v1/incidents', { headers: bearer });
  expect(listed.status()).toBe(200);
  expect(listed.headers()['set-cookie']).toBeUndefined();

  await tokens.getByRole('button', { name: 'Revoke deploy script' }).click();
  await expect(tokens.getByRole('cell', { name: 'Revoked', exact: true })).toBeVisible();
  expect((await request.get('/api/v1/incidents', { headers: bearer })).status()).toBe(401);
});

test('an administrator routes alerts, and Alertmanager declares an incident the page explains', async ({ page, request }) => {
  await signIn(page, ADMIN);
  await page.goto('/admin/integrations');
  await hydrated(page);

  const routing = page.locator('section', { has: page.getByRole('heading', { name: 'Alert routing' }) });
  await routing.getByLabel('Name').fill('checkout is SEV2');
  await routing.getByLabel(/^Matchers/).fill('service=~"check.*"');
  await routing.getByLabel('Severity').selectOption('SEV2');
  await routing.getByRole('button', { name: 'Add rule' }).click();
  await expect(routing.getByRole('cell', { name: 'checkout is SEV2', exact: true })).toBeVisible();
  await expect(routing.getByRole('cell', { name: 'service=~"check.*"', exact: true })).toBeVisible();

  const tokens = page.locator('section', { has: page.getByRole('heading', { name: 'API tokens' }) });
  await tokens.getByLabel('Name (what uses it)').fill('alertmanager');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = await tokens.getByLabel(/copy it now/).inputValue();
  await expect(tokens.getByRole('cell', { name: 'bot: alertmanager', exact: true })).toBeVisible();

  const received = await request.post('/api/v1/alerts/alertmanager', {
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    data: firing,
  });
  expect(received.status()).toBe(200);
  const incident = (await received.json()).incident as string;
  expect(incident).toMatch(/^INC-\d+$/);

  await page.goto(`/incidents/${incident}`);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Checkout error rate above 5%');
  await expect(page.locator('.badges')).toContainText('SEV2');
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Declared by an alert (Alertmanager)' }) });
  await expect(card).toContainText('checkout-7f9c6:9102');
  await expect(page.getByRole('link', { name: 'source' }).first()).toHaveAttribute('href', /prometheus\.example\.com/);

  await page.goto('/incidents?from_alert=yes');
  await hydrated(page);
  await expect(page.getByLabel('Declared from an alert')).toBeChecked();
  // Only the incident the alert declared, not the ones declared by hand.
  const rows = page.locator('table tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.getByRole('link', { name: new RegExp(`^${incident} `) })).toBeVisible();
});
