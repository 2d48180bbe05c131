import { expect, test } from '@playwright/test';
import { hydrated } from './helpers';

// The bundle's files are named after their content and kept by browsers for a year,
// so a repeat visit fetches only the page.
test('the browser bundle has content-hashed names and is cached for a year', async ({ page }) => {
  const bundle: string[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/pkg/')) bundle.push(response.url());
  });
  await page.goto('/login');
  await hydrated(page);

  const stylesheet = await page.locator('link[rel="stylesheet"]').first().getAttribute('href');
  expect(stylesheet).toMatch(/^\/pkg\/foghorn\.[A-Za-z0-9_-]{16,}\.css$/);
  expect(bundle.some((url) => /\/pkg\/foghorn\.[A-Za-z0-9_-]{16,}\.js$/.test(url))).toBe(true);
  expect(bundle.some((url) => /\.wasm$/.test(url))).toBe(true);
  for (const url of bundle) {
    const response = await page.request.get(url);
    expect(response.status(), url).toBe(200);
    expect(response.headers()['cache-control'], url).toBe('public, max-age=31536000, immutable');
  }

  // A repeat visit: the page comes from the server, the bundle from the browser's cache.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const bundleRequests = new Map<string, string>();
  const fromCache = new Set<string>();
  cdp.on('Network.responseReceived', (event) => {
    if (!new URL(event.response.url).pathname.startsWith('/pkg/')) return;
    bundleRequests.set(event.requestId, event.response.url);
    if (event.response.fromDiskCache) fromCache.add(event.requestId);
  });
  cdp.on('Network.requestServedFromCache', (event) => fromCache.add(event.requestId));
  await page.goto('/login');
  await hydrated(page);
  const fetched = [...bundleRequests].filter(([id]) => !fromCache.has(id)).map(([, url]) => url);
  expect(bundleRequests.size, 'the repeat visit uses the bundle').toBeGreaterThan(0);
  expect(fetched, 'bundle files fetched again on a repeat visit').toEqual([]);
});
