import { APIRequestContext, expect, test } from '@playwright/test';
import { API_HEADERS, ADMIN, RESPONDER, VIEWER, hydrated, signIn } from './helpers';

test.setTimeout(90_000);

/** Calls a server function with a JSON body and returns its JSON answer. */
async function call(api: APIRequestContext, endpoint: string, data: unknown) {
  const response = await api.post(`/api/${endpoint}`, { data, headers: API_HEADERS });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Calls a server function the way a form does. */
async function form(api: APIRequestContext, endpoint: string, fields: Record<string, string>) {
  const response = await api.post(`/api/${endpoint}`, { form: fields, headers: API_HEADERS });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

function daysFromNow(days: number) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

test('a team lead filters to overdue items, reassigns one and closes one; the incident timeline says so', async ({ browser }) => {
  const ada = await (await browser.newContext()).newPage();
  const rita = await (await browser.newContext()).newPage();
  const vic = await (await browser.newContext()).newPage();
  await signIn(ada, ADMIN);
  await signIn(rita, RESPONDER);
  await signIn(vic, VIEWER);

  // The administrator sets up a team that Rita leads, and the work to track.
  const users: { id: number; email: string }[] = await call(ada.request, 'list_users', {});
  const ritaId = users.find((u) => u.email === RESPONDER.email)!.id;
  const team = await form(ada.request, 'create_team', { name: 'Payments' });
  await form(ada.request, 'set_team_lead', { team_id: String(team), user_id: String(ritaId) });
  const other = await form(ada.request, 'create_team', { name: 'Mobile' });
  const number = await call(ada.request, 'declare_incident', { declaration: { title: 'Refunds stuck', severity: 'SEV2', team_id: team } });
  const item = (title: string, team_id: number, due_date: string) =>
    call(ada.request, 'create_action_item', {
      item: { incident_number: number, title, team_id, due_date, owner_id: ritaId, description: `Why: **${title}** keeps refunds moving.` },
    });
  const reassign = await item('Alert on refund queue depth', team, daysFromNow(-3));
  const close = await item('Retry refunds idempotently', team, daysFromNow(-2));
  await item('Document the refund runbook', team, daysFromNow(10));
  await item('Crash on refund screen', other, daysFromNow(-4));

  // Rita narrows the tracker to her team's overdue items.
  await rita.goto('/actions');
  await hydrated(rita);
  await rita.getByLabel('Team').selectOption({ label: 'Payments' });
  await rita.getByLabel('Overdue').check();
  await rita.getByRole('button', { name: 'Filter' }).click();
  await expect(rita).toHaveURL(/overdue=true/);
  const rows = rita.locator('table.items tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rita.locator('.counts')).toContainText('2 items');
  await expect(rows.first()).toContainText('Overdue');

  // She gives one to Ada and marks the other done.
  // Each change re-reads the list; wait for it before the next one.
  const reread = rita.waitForResponse((r) => r.url().endsWith('/api/list_action_items'));
  await rita.locator(`#owner-${reassign}`).selectOption({ label: ADMIN.name });
  await reread;
  await expect(rita.locator(`#owner-${reassign}`)).toHaveValue(String(users.find((u) => u.email === ADMIN.email)!.id));
  await rita.locator(`#status-${close}`).selectOption('done');
  // Done items are no longer overdue: it leaves this view.
  await expect(rows).toHaveCount(1);

  // The incident's timeline shows both changes.
  await rita.goto(`/incidents/INC-${number}`);
  await hydrated(rita);
  const timeline = rita.locator('.timeline');
  await expect(timeline).toContainText(`reassigned from ${RESPONDER.name} to ${ADMIN.name} on action item #${reassign}`);
  await expect(timeline).toContainText(`marked it done on action item #${close}`);

  // A viewer reads the same tracker with no way to change it.
  await vic.goto('/actions');
  await hydrated(vic);
  await expect(vic.locator('table.items tbody tr')).toHaveCount(4);
  await expect(vic.locator('table.items select, table.items input')).toHaveCount(0);
  await expect(vic.getByText('Add an action item')).toHaveCount(0);
  // Descriptions are markdown, rendered.
  await vic.getByText('Description').first().click();
  await expect(vic.locator('.item-description strong').first()).toBeVisible();

  // The summary draws the chart on the server, with its numbers as text.
  await vic.goto('/actions?view=summary');
  await expect(vic.getByRole('img', { name: /Payments, oldest week first/ })).toBeVisible();
});
