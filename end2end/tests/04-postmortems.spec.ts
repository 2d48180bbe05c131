import { expect, test } from '@playwright/test';
import { ADMIN, RESPONDER, VIEWER, declare, expectAccessible, hydrated, signIn } from './helpers';

test.setTimeout(90_000);

test('two responders edit one postmortem: the later save shows both texts, and the merge saves', async ({ browser }) => {
  const rita = await (await browser.newContext()).newPage();
  const ada = await (await browser.newContext()).newPage();
  await signIn(rita, RESPONDER);
  await signIn(ada, ADMIN);

  await declare(rita, 'Image uploads fail');
  await rita.getByRole('button', { name: 'Start postmortem' }).click();
  await expect(rita).toHaveURL(/\/postmortems\/INC-\d+$/);
  await hydrated(rita);
  // Pre-filled from the incident.
  await expect(rita.locator('#pm-timeline')).toHaveValue(/declared INC-\d+/);

  // Both open it at version 1.
  await ada.goto(rita.url());
  await hydrated(ada);
  await expect(ada.locator('.save-state')).toHaveText('Saved · version 1');

  await rita.locator('#pm-summary').fill('Uploads failed because the bucket policy changed.');
  await rita.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(rita.locator('.save-state')).toHaveText('Saved · version 2');

  // Ada, still on version 1, writes the same section: her save is refused as a conflict.
  await ada.locator('#pm-summary').fill('The storage credentials expired.');
  await ada.getByRole('button', { name: 'Save', exact: true }).click();
  const clash = ada.locator('.clash');
  await expect(clash).toContainText(`${RESPONDER.name} saved version 2 while you were editing.`);
  // Both texts are on screen; hers is kept in the editor.
  await expect(ada.getByRole('textbox', { name: `${RESPONDER.name}'s Summary` })).toHaveValue('Uploads failed because the bucket policy changed.');
  await expect(ada.locator('#pm-summary')).toHaveValue('The storage credentials expired.');
  await expectAccessible(ada, 'a postmortem showing an edit conflict');

  // She merges the two and saves over version 2.
  await ada.locator('#pm-summary').fill('Uploads failed because the bucket policy changed and the storage credentials expired.');
  await ada.getByRole('button', { name: 'Save merged version (over version 2)' }).click();
  await expect(ada.locator('.save-state')).toHaveText('Saved · version 3');
  await expect(clash).toHaveCount(0);

  await rita.reload();
  await hydrated(rita);
  await expect(rita.locator('#pm-summary')).toHaveValue('Uploads failed because the bucket policy changed and the storage credentials expired.');

  // The history shows who saved which version.
  await rita.getByRole('button', { name: 'Show versions' }).click();
  await expect(rita.locator('.versions li').first()).toContainText('Version 3');
  await expect(rita.locator('.versions li').first()).toContainText(ADMIN.name);
  await expect(rita.locator('.versions li').first()).toContainText('Changed: Summary');
});

test('a published postmortem reads the same for a viewer, with no way to edit it', async ({ browser }) => {
  const rita = await (await browser.newContext()).newPage();
  const vic = await (await browser.newContext()).newPage();
  await signIn(rita, RESPONDER);
  await signIn(vic, VIEWER);

  await declare(rita, 'Search index stale');
  await rita.getByRole('button', { name: 'Start postmortem' }).click();
  await expect(rita).toHaveURL(/\/postmortems\/INC-\d+$/);
  await hydrated(rita);
  const url = rita.url();

  // A draft is not for viewers yet.
  await vic.goto(url);
  await expect(vic.locator('.form-error')).toContainText('was not found');

  await rita.locator('#pm-summary').fill('The indexer stopped after a **schema change**.');
  await rita.locator('#pm-contributing_factors').fill('No alert on indexer lag.');
  await rita.locator('#pm-lessons').fill('Alert on lag, not only on errors.');
  await rita.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(rita.locator('.save-state')).toHaveText(/Saved · version \d+/);
  await rita.getByLabel('Publishing without action items? Say why').fill('The fix shipped during the incident.');
  await rita.getByRole('button', { name: 'Save reason' }).click();
  await expect(rita.getByText('No action items: The fix shipped during the incident.')).toBeVisible();
  await rita.getByRole('button', { name: 'Send for review' }).click();
  await expect(rita.getByRole('button', { name: 'Publish' })).toBeVisible();
  await rita.getByRole('button', { name: 'Publish' }).click();
  await expect(rita.locator('.pm-head .pm-status')).toHaveText('Published');

  await vic.goto('/postmortems');
  await hydrated(vic);
  await vic.getByRole('link', { name: /Search index stale/ }).click();
  await expect(vic).toHaveURL(url);
  await hydrated(vic);
  await expect(vic.locator('.pm-doc strong', { hasText: 'schema change' })).toBeVisible();
  await expect(vic.locator('.pm-doc')).toContainText('Alert on lag, not only on errors.');
  for (const name of ['Edit', 'Correct it', 'Save', 'Send for review', 'Publish', 'Schedule', 'Change team', 'Save reason']) {
    await expect(vic.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(vic.getByRole('textbox')).toHaveCount(0);
});
