import { Browser, expect, Page, test } from '@playwright/test';
import { ADMIN, API_HEADERS, RESPONDER, VIEWER, declare, expectAccessible, hydrated, signIn, tabTo } from './helpers';

test.setTimeout(300_000);

/** The pages of a signed-in person, with the incidents, postmortems and runbooks the
 *  earlier scenarios made. */
async function everyPage(page: Page): Promise<string[]> {
  const paths = ['/', '/incidents', '/incidents/new', '/incidents/INC-1', '/postmortems', '/actions', '/actions?view=mine',
    '/actions?view=team', '/actions?view=summary', '/runbooks', '/runbooks/new', '/account'];
  const postmortems = await page.request.post('/api/list_postmortems', { data: { filter: {} }, headers: API_HEADERS });
  for (const p of (await postmortems.json()).postmortems) paths.push(`/postmortems/INC-${p.incident_number}`);
  const runbooks = await page.request.post('/api/list_runbooks', { data: { filter: {} }, headers: API_HEADERS });
  for (const r of (await runbooks.json()).runbooks ?? []) paths.push(`/runbooks/${r.id}`);
  return paths;
}

async function signedIn(browser: Browser, who: { email: string; password: string }, options = {}) {
  const page = await (await browser.newContext(options)).newPage();
  await signIn(page, who);
  return page;
}

test('every page, for every role, in light and dark, passes the WCAG 2.2 AA checks', async ({ browser }) => {
  for (const who of [ADMIN, RESPONDER, VIEWER]) {
    const page = await signedIn(browser, who);
    const paths = await everyPage(page);
    if (who === ADMIN) paths.push('/admin', '/admin/audit', '/admin/integrations');
    for (const path of paths) {
      await page.goto(path);
      await hydrated(page);
      await page.waitForLoadState('networkidle');
      await expectAccessible(page, `${path} as ${who.email}`);
    }
    await page.context().close();
  }
  const visitor = await (await browser.newContext()).newPage();
  for (const path of ['/login', '/status', '/api/v1/docs']) {
    await visitor.goto(path);
    await expectAccessible(visitor, `${path} signed out`);
  }
  // A failed sign-in: the error summary and the field.
  await visitor.goto('/login');
  await hydrated(visitor);
  await visitor.getByLabel('Email').fill(RESPONDER.email);
  await visitor.getByLabel('Password').fill('not the password');
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await expect(visitor.locator('.error-summary')).toBeVisible();
  await expectAccessible(visitor, '/login after a failed sign-in');
});

test('form errors are summarised at the top, linked to their fields, and take the focus', async ({ page }) => {
  await signIn(page, RESPONDER);
  await page.goto('/incidents/new');
  await hydrated(page);
  await page.getByLabel('Title').fill('   ');
  await page.locator('#severity-SEV4').check();
  await page.getByRole('button', { name: 'Declare incident' }).last().click();

  const summary = page.locator('.error-summary');
  await expect(summary).toBeFocused();
  await expect(summary).toContainText('There is a problem');
  // The summary comes first in the form, and its link leads to the field.
  const form = page.locator('form.declare');
  expect(await form.evaluate((f) => f.querySelector('.error-summary') === f.querySelector(':scope > *'))).toBe(true);
  await expect(summary.getByRole('link')).toHaveAttribute('href', '#title');
  // The field names its error for screen readers.
  const title = page.getByLabel('Title');
  await expect(title).toHaveAttribute('aria-invalid', 'true');
  await expect(title).toHaveAccessibleDescription(/^Give the incident a title/);
  await expectAccessible(page, '/incidents/new with a field error');
});

test('a responder declares, takes comms, posts a note and resolves with the keyboard alone', async ({ page }) => {
  await signIn(page, RESPONDER);
  await page.goto('/');
  await hydrated(page);

  // The first stop is the way past the navigation.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();

  await tabTo(page, page.getByRole('link', { name: 'Declare incident' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/incidents\/new$/);
  await hydrated(page);
  await expect(page.getByLabel('Title')).toBeFocused();
  await page.keyboard.type('Keyboard-only: search is timing out');
  await tabTo(page, page.locator('#severity-SEV1'));
  // Arrow keys move through the severities and choose one.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('#severity-SEV3')).toBeChecked();
  await tabTo(page, page.getByRole('button', { name: 'Declare incident' }).last());
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/incidents\/INC-\d+$/);
  await hydrated(page);

  await tabTo(page, page.getByRole('button', { name: 'Take comms' }));
  await page.keyboard.press('Enter');
  await expect(page.locator('.roles')).not.toContainText('Unassigned');
  // The button is gone with the change; focus stays nearby, not thrown to the top.
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('respond-heading');

  await tabTo(page, page.getByLabel('Post to the timeline (markdown)'));
  await page.keyboard.type('Rolled back the search deploy');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Post note' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('.timeline')).toContainText('Rolled back the search deploy');

  const status = page.getByLabel('Status', { exact: true });
  await tabTo(page, status);
  await page.keyboard.press('End');
  await expect(status).toHaveValue('resolved');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Resolution summary (required to resolve)')).toBeFocused();
  await page.keyboard.type('Rolled back; search answers again');
  await tabTo(page, page.getByRole('button', { name: 'Update status' }));
  await page.keyboard.press('Enter');
  await expect(page.locator('.badges')).toContainText('Resolved');
});

test('live updates are announced once per burst and never move the reader', async ({ browser }) => {
  const rita = await signedIn(browser, RESPONDER);
  const number = await declare(rita, 'Announcements: queue backlog');

  const vic = await signedIn(browser, VIEWER);
  await vic.goto(rita.url());
  await hydrated(vic);
  await expect(vic.getByText('Live', { exact: true })).toBeVisible();
  // A timeline long enough to scroll down; its announcement is out of the way first.
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      rita.request.post('/api/post_note', { form: { number: String(number), body: `earlier ${i + 1}` }, headers: API_HEADERS }),
    ),
  );
  await expect(vic.locator('.timeline > li', { hasText: /earlier \d+/ })).toHaveCount(10);
  await vic.waitForTimeout(4_000); // longer than the announcement window (3 s)
  // What the screen reader is told, each time the region changes.
  await vic.evaluate(() => {
    const said: string[] = ((window as any).__said = []);
    const region = document.getElementById('timeline-announcements')!;
    new MutationObserver(() => {
      const text = region.textContent?.trim() ?? '';
      if (text && said[said.length - 1] !== text) said.push(text);
    }).observe(region, { childList: true, subtree: true, characterData: true });
  });
  // The reader is on a control and has scrolled down the timeline to its first entry; a
  // burst of notes arrives above it.
  await vic.setViewportSize({ width: 1280, height: 400 });
  await vic.getByRole('button', { name: /Showing newest first/ }).focus();
  const reading = vic.locator('.timeline > li', { hasText: 'declared' });
  await reading.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const onScreen = () => reading.evaluate((el) => el.getBoundingClientRect().top);
  // How far it moved on the screen; positions are fractional, scrolling is by whole pixels.
  const before = await onScreen();
  const moved = async () => Math.abs((await onScreen()) - before);

  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      rita.request.post('/api/post_note', { form: { number: String(number), body: `burst ${i + 1}` }, headers: API_HEADERS }),
    ),
  );
  await expect(vic.locator('.timeline > li', { hasText: /^.*burst \d+/ })).toHaveCount(20);
  await expect.poll(() => vic.evaluate(() => (window as any).__said.join(' | ')), { timeout: 30_000 }).toMatch(/burst|Note by/);
  // Wait for the throttle to settle, then count what was said.
  await vic.waitForTimeout(4_000);
  const said: string[] = await vic.evaluate(() => (window as any).__said);
  const counted = said
    .map((s) => (/^(\d+) new timeline entries/.exec(s)?.[1] ?? (s.startsWith('New on the timeline') ? '1' : '0')))
    .reduce((a, n) => a + Number(n), 0);
  expect(counted, `announcements: ${said.join(' | ')}`).toBe(20);
  expect(said.length, 'a burst is a few announcements, not one per entry').toBeLessThanOrEqual(4);
  expect(said[said.length - 1]).toContain(`Note by ${RESPONDER.name}`);
  await expect(vic.getByRole('button', { name: /Showing newest first/ })).toBeFocused();
  await expect.poll(moved, { message: 'the entry being read stays where it was on the screen' }).toBeLessThan(1.5);

  // A change that re-renders the page (a role taken) keeps the reader's focus and
  // scroll offset too.
  const me = await (await rita.request.post('/api/get_viewer', { headers: API_HEADERS })).json();
  const taken = await rita.request.post('/api/assign_role', {
    form: { number: String(number), role: 'comms', user_id: String(me.id) },
    headers: API_HEADERS,
  });
  expect(taken.ok(), await taken.text()).toBe(true);
  await expect(vic.locator('.timeline')).toContainText('took comms');
  await expect(vic.getByRole('button', { name: /Showing newest first/ })).toBeFocused();
  await expect.poll(moved, { message: 'the entry being read stays put through a re-render' }).toBeLessThan(1.5);
  await vic.setViewportSize({ width: 1280, height: 720 });
  await expectAccessible(vic, 'an incident page just after live updates');
});

test('the main pages read without JavaScript', async ({ browser }) => {
  const withScript = await signedIn(browser, RESPONDER);
  const state = await withScript.context().storageState();
  const postmortems = await withScript.request.post('/api/list_postmortems', { data: { filter: {} }, headers: API_HEADERS });
  const pm = (await postmortems.json()).postmortems[0];
  const page = await (await browser.newContext({ javaScriptEnabled: false, storageState: state })).newPage();

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('main a[href^="/incidents/INC-"]').first()).toBeVisible();

  await page.goto('/incidents/INC-1');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('INC-1');
  await expect(page.locator('.roles')).toContainText('Point');
  await expect(page.locator('.timeline > li').first()).toBeVisible();

  await page.goto('/incidents');
  await expect(page.locator('main a[href^="/incidents/INC-"]').first()).toBeVisible();

  await page.goto(`/postmortems/INC-${pm.incident_number}`);
  await expect(page.getByRole('heading', { name: 'Summary' }).first()).toBeVisible();

  await page.goto('/actions');
  await expect(page.getByRole('heading', { name: 'Action items' }).first()).toBeVisible();
  await expect(page.locator('table.items tbody tr').first()).toBeVisible();
});

test('at 320 CSS pixels nothing scrolls sideways, and a phone shows the state of an incident first', async ({ browser }) => {
  const narrow = await signedIn(browser, RESPONDER, { viewport: { width: 320, height: 640 } });
  for (const path of await everyPage(narrow)) {
    await narrow.goto(path);
    await hydrated(narrow);
    await narrow.waitForLoadState('networkidle');
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} is wider than the screen by ${overflow} px`).toBeLessThanOrEqual(0);
  }

  const phone = await signedIn(browser, RESPONDER, { viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto('/incidents/INC-1');
  await hydrated(phone);
  const top = async (selector: string) => (await phone.locator(selector).first().boundingBox())!.y;
  const status = await top('.badges .status');
  const point = await top('.roles > div:nth-child(1)');
  const comms = await top('.roles > div:nth-child(2)');
  const latest = await top('.timeline > li');
  const firstLongForm = Math.min(await top('.controls'), await top('.comms-form'), await top('.edit-details'));
  expect(status).toBeLessThan(firstLongForm);
  expect(point).toBeLessThan(firstLongForm);
  expect(comms).toBeLessThan(firstLongForm);
  expect(latest).toBeLessThan(firstLongForm);
});

test('the open-for clock keeps still for readers who ask for less motion', async ({ browser }) => {
  for (const reducedMotion of ['reduce', 'no-preference'] as const) {
    const page = await (await browser.newContext({ reducedMotion })).newPage();
    await page.clock.install();
    await signIn(page, RESPONDER);
    await page.goto('/incidents/INC-1');
    await hydrated(page);
    await page.evaluate(() => ((window as any).__changes = 0));
    await page.evaluate(() => {
      new MutationObserver(() => (window as any).__changes++).observe(document.querySelector('.open-for')!, {
        childList: true,
        subtree: true,
        characterData: true,
      });
    });
    await page.clock.runFor(10_000);
    const changes = await page.evaluate(() => (window as any).__changes);
    if (reducedMotion === 'reduce') expect(changes, 'changes in 10 s with reduced motion').toBe(0);
    else expect(changes, 'changes in 10 s').toBeGreaterThan(0);
    await page.context().close();
  }
});

test('the page warns before the session ends, and says so once it has', async ({ page }) => {
  await page.clock.install();
  await signIn(page, RESPONDER);
  const endsAt = 1000 * (await (await page.request.post('/api/get_session_ends_at', { headers: API_HEADERS })).json());
  await page.goto('/postmortems');
  await hydrated(page);
  const warning = page.locator('.session-warning');
  await expect(warning).toHaveCount(0);

  // Nine minutes before the end, by the browser's clock.
  const now = await page.evaluate(() => Date.now());
  await page.clock.fastForward(endsAt - now - 9 * 60_000);
  await expect(warning).toContainText(/Your session ends in (9|10) minutes/);
  await expect(warning).toHaveAttribute('role', 'alert');
  await expect(warning.getByRole('link', { name: 'Sign in again in a new tab' })).toHaveAttribute('href', '/login?again');
  await expectAccessible(page, 'a page warning that the session ends soon');

  await page.clock.fastForward(10 * 60_000);
  await expect(warning).toContainText('Your session has ended');
  await expect(warning).toContainText('Nothing on this page is lost');
});
