import { expect, test } from '@playwright/test';
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RESPONDER, hydrated, signIn } from './helpers';
import { baseURL } from '../playwright.config';

test.setTimeout(90_000);

// Last on purpose: it ends by stopping the server.
test('a drill from a runbook is marked everywhere, and the exported runbooks open from file:// with the server down', async ({ browser }) => {
  const rita = await (await browser.newContext()).newPage();
  await signIn(rita, RESPONDER);

  await rita.goto('/runbooks/new');
  await hydrated(rita);
  await rita.getByLabel('Title').fill('Fail over the payments database');
  await rita.getByLabel('Runbook (markdown)').fill('## Steps\n\n1. Promote the replica\n2. Repoint the application');
  await rita.getByRole('button', { name: 'Create runbook' }).click();
  await expect(rita).toHaveURL(/\/runbooks\/\d+$/);
  await expect(rita.getByRole('heading', { level: 1 })).toHaveText('Fail over the payments database');
  await hydrated(rita);

  // A drill: a real incident flow, marked DRILL everywhere and never "major".
  await rita.getByRole('button', { name: 'Start a drill' }).click();
  await expect(rita).toHaveURL(/\/incidents\/INC-\d+$/);
  const number = rita.url().split('/').pop()!;
  await expect(rita.locator('.drill-banner')).toContainText('DRILL');
  await expect(rita.locator('.roles')).toContainText(RESPONDER.name);
  await expect(rita.getByRole('link', { name: 'Fail over the payments database' })).toBeVisible();
  await rita.goto('/');
  const row = rita.locator('tr', { has: rita.getByRole('link', { name: new RegExp(`${number} Drill: Fail over`) }) }).first();
  await expect(row.locator('.drill-tag')).toHaveText('DRILL');
  await expect(rita.locator('.major-banner')).not.toContainText(number);

  // The offline copy, written by the command line next to the running server.
  const out = join(mkdtempSync(join(tmpdir(), 'foghorn-runbooks-')), 'runbooks');
  const bin = resolve(process.env.FOGHORN_BIN ?? '../target/debug/foghorn');
  execFileSync(bin, ['export', 'runbooks', '--out', out], {
    env: { ...process.env, DATABASE_URL: process.env.FOGHORN_E2E_DATABASE_URL ?? '', FOGHORN_LOG: 'warn' },
  });

  // Stop the server: the copy must not need it.
  const port = new URL(baseURL).port;
  const listening = execSync(`ss -ltnpH 'sport = :${port}'`).toString();
  const pid = Number(/pid=(\d+)/.exec(listening)![1]);
  process.kill(pid, 'SIGTERM');
  await expect.poll(async () => fetch(`${baseURL}/healthz`).then(() => 'up', () => 'down'), { timeout: 15_000 }).toBe('down');

  const reader = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await reader.goto(`file://${out}/index.html`);
  await expect(reader.getByRole('heading', { name: 'Runbooks' })).toBeVisible();
  await reader.getByRole('link', { name: 'Fail over the payments database' }).click();
  await expect(reader).toHaveURL(/\/runbooks\/\d+-fail-over-the-payments-database\.html$/);
  await expect(reader.getByRole('heading', { name: 'Fail over the payments database' })).toBeVisible();
  await expect(reader.getByRole('listitem').filter({ hasText: 'Promote the replica' })).toBeVisible();
  await reader.getByRole('link', { name: 'All runbooks' }).click();
  await expect(reader).toHaveURL(/index\.html$/);
});
