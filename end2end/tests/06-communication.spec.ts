import { APIRequestContext, expect, test } from '@playwright/test';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { API_HEADERS, ADMIN, RESPONDER, expectAccessible, hydrated, signIn } from './helpers';
import { baseURL } from '../playwright.config';

test.setTimeout(90_000);

async function call(api: APIRequestContext, endpoint: string, body: { data?: unknown; form?: Record<string, string> }) {
  const response = await api.post(`/api/${endpoint}`, { ...body, headers: API_HEADERS });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

test('comms posts a public update: the status page and a customer site banner show it', async ({ browser }) => {
  const ada = await (await browser.newContext()).newPage();
  const rita = await (await browser.newContext()).newPage();
  await signIn(ada, ADMIN);
  await signIn(rita, RESPONDER);

  const service = await call(ada.request, 'create_service', { form: { name: 'Checkout API', description: '', team_id: '' } });
  await call(ada.request, 'set_service_public', { form: { id: String(service), public: 'true' } });
  const number = await call(rita.request, 'declare_incident', {
    data: { declaration: { title: 'Internal: payments-db primary OOM', severity: 'SEV2', service_ids: [service] } },
  });

  await rita.goto(`/incidents/INC-${number}`);
  await hydrated(rita);
  await rita.getByRole('button', { name: 'Take comms' }).click();
  await expect(rita.locator('.roles')).not.toContainText('Unassigned');
  await rita.getByText('Post a comms update').click();
  await rita.getByLabel('What is affected').fill('Card payments');
  await rita.getByLabel('What we know').fill('The payments database ran out of memory.');
  await rita.getByLabel('What we are doing').fill('Failing over to the replica.');
  await rita.getByLabel('Public (status page)').check();
  await rita.getByLabel('Public wording (customers read this)').fill('Some card payments are failing. We are working on a fix.');
  await expectAccessible(rita, 'an incident page with the comms update form open');
  await rita.getByRole('button', { name: 'Post update' }).click();
  await expect(rita.locator('.updates')).toContainText('Some card payments are failing.');
  await expect(rita.locator('.timeline')).toContainText('posted a comms update (internal and public)');

  // Signed out: the status page, without JavaScript.
  const visitor = await browser.newContext({ javaScriptEnabled: false });
  const page = await visitor.newPage();
  await page.goto('/status');
  await expect(page.locator('.overall')).toHaveText('Partial outage');

  await expect(page.getByText('Some card payments are failing. We are working on a fix.')).toBeVisible();
  await expect(page.locator('body')).not.toContainText('payments-db');
  await expect(page.locator('body')).not.toContainText('ran out of memory');

  // A customer's own site (another origin, served by a real server here) includes one
  // script tag and shows the banner.
  const shop = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><html><body><h1>Shop</h1><script src="${baseURL}/status/banner.js"></script></body></html>`);
  });
  await new Promise<void>((ready) => shop.listen(0, '127.0.0.1', ready));
  const shopURL = `http://127.0.0.1:${(shop.address() as AddressInfo).port}/`;
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(shopURL);
  const banner = customer.locator('#foghorn-status-banner');
  await expect(banner).toContainText('Some card payments are failing.');
  await expect(banner.getByRole('link', { name: 'Status page' })).toHaveAttribute('href', `${baseURL}/status`);
  await banner.getByRole('button', { name: 'Dismiss' }).click();
  await expect(banner).toHaveCount(0);
  await customer.reload();
  await expect(customer.getByRole('heading', { name: 'Shop' })).toBeVisible();
  await expect(customer.locator('#foghorn-status-banner')).toHaveCount(0);
  shop.close();

  // Inside Foghorn, an active SEV2 shows a banner on every page.
  await ada.goto('/postmortems');
  await expect(ada.locator('.major-banner')).toContainText(`INC-${number}`);
});

test('every page comes alive in the browser without errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('Failed to load resource')) errors.push(m.text());
  });
  await signIn(page, ADMIN);
  const paths = ['/', '/incidents', '/incidents/new', '/incidents/INC-1', '/postmortems', '/actions', '/actions?view=mine',
    '/actions?view=team', '/actions?view=summary', '/runbooks', '/runbooks/new', '/admin', '/account'];
  const postmortem = await page.request.post('/api/list_postmortems', { data: { filter: {} }, headers: API_HEADERS });
  for (const p of (await postmortem.json()).postmortems) paths.push(`/postmortems/INC-${p.incident_number}`);
  for (const path of paths) {
    await page.goto(path);
    await hydrated(page);
    // Effects that load data after hydration run too: wait until the network is
    // quiet (however long that takes here), not for a fixed time.
    await page.waitForLoadState('networkidle');
    expect(errors, `errors on ${path}`).toEqual([]);
  }
});
