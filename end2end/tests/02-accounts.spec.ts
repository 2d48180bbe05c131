import { expect, test } from '@playwright/test';
import { ADMIN, API_HEADERS, RESPONDER, VIEWER, hydrated, signIn, signOut } from './helpers';

test('the administrator adds a responder and a viewer', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();

  for (const [who, role] of [[RESPONDER, 'Responder'], [VIEWER, 'Viewer']] as const) {
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Add user' }) });
    await form.getByLabel('Email').fill(who.email);
    await form.getByLabel('Name').fill(who.name);
    await form.getByLabel('Role').selectOption({ label: role });
    await form.getByLabel('Initial password').fill(who.password);
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(page.getByRole('cell', { name: who.email })).toBeVisible();
  }
  await signOut(page);
});

test('the administrator reads who did what in the audit log', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Signed in' }).first()).toBeVisible();

  await page.getByLabel('Event').selectOption({ label: 'User created' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=user_created/);
  const rows = page.locator('table.audit tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: `user ${VIEWER.name} <${VIEWER.email}>` })).toContainText(ADMIN.email);
  await expect(page.getByRole('link', { name: 'Download CSV' })).toHaveAttribute('href', '/api/audit.csv?kind=user_created');
  await signOut(page);
});

test('people sign in with the company identity provider and get the role their groups give', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  // The provider's own login and consent pages.
  await page.locator('input[name="login"]').fill('ana');
  await page.locator('input[name="password"]').fill('any password will do');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  // Back in Foghorn, signed in; the provider says Ana is in "sre", which maps to admin.
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Ana Sso');
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toBeVisible();
  // Signing out signs out at the provider too, which then sends the browser back.
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('sign in and sign out', async ({ page }) => {
  await signIn(page, RESPONDER);
  await expect(page.getByRole('banner')).toContainText(RESPONDER.name);
  await signOut(page);
  // Signed out means signed out: pages send you back to sign-in.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password gets one clear message and no session', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(RESPONDER.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.field-error', { hasText: 'That email and password do not match an active account.' })).toBeVisible();
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('a page reached signed out comes back after sign-in', async ({ page }) => {
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(RESPONDER.email);
  await page.getByLabel('Password').fill(RESPONDER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
});

test('a viewer is refused /admin', async ({ page }) => {
  await signIn(page, VIEWER);
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  const response = await page.goto('/admin');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: '403 — Not allowed' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add user' })).toHaveCount(0);
});

test('a responder is refused user management', async ({ page }) => {
  await signIn(page, RESPONDER);
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  const response = await page.goto('/admin');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: '403 — Not allowed' })).toBeVisible();
  await expect(page.getByText(ADMIN.email)).toHaveCount(0);

  // Calling the server function directly, as a script would, is refused too.
  const direct = await page.request.post('/api/add_user', {
    form: { email: 'sneaky@example.com', display_name: 'Sneaky', role: 'admin', password: 'sneaky passphrase' },
    headers: API_HEADERS,
  });
  expect(direct.status()).toBe(403);
});
