// Natter keeps working through outages: cached chats stay readable, messages
// typed offline survive a reload and are delivered once, in order.
import { test, expect, signUp, openChatWith, send, uniqueName, waitForOfflineShell, bodies, befriend } from './fixtures.mjs';

test('outage drill: read, type and reload while the server is down', async ({ browser, server }) => {
  // Bob's automatic reconnect may wait out a backoff of up to 30 s.
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);

  // 1. A and B chat.
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'before the outage');
  await expect(bob.page.getByRole('button', { name: `${annName}, 1 unread` })).toBeVisible();
  await bob.page.getByRole('button', { name: `${annName}, 1 unread` }).click();
  await send(bob.page, 'got it');
  await expect(bodies(ann.page)).toHaveText(['before the outage', 'got it']);
  // Bob goes back to his list, so his device stores without reading: D.
  await bob.page.keyboard.press('Escape');
  await expect(bob.page.getByRole('heading', { name: annName })).toHaveCount(0);
  await waitForOfflineShell(ann.page);

  // 2. The server goes down; A still reads the history.
  await server.stop();
  await expect(ann.page.locator('.banner').filter({ hasText: 'Offline since' })).toBeVisible();
  await expect(bodies(ann.page)).toHaveText(['before the outage', 'got it']);

  // 3. A sends three messages: they wait.
  for (const text of ['offline 1', 'offline 2', 'offline 3']) await send(ann.page, text);
  const waiting = ann.page.locator('.bubble-row.mine').getByRole('img', { name: 'Waiting to send' });
  await expect(waiting).toHaveCount(3);

  // 4. A reloads: the app opens from the service worker and the cache, with
  //    the three still waiting.
  await ann.page.reload();
  await expect(ann.page.locator('.me-name')).toHaveText(annName);
  await expect(bodies(ann.page)).toHaveText(['before the outage', 'got it', 'offline 1', 'offline 2', 'offline 3']);
  await expect(waiting).toHaveCount(3);
  await ann.page.screenshot({ path: new URL('../../target/screenshots/outage-waiting.png', import.meta.url).pathname });

  // 5. The server comes back. A retries at once; B reconnects on its own.
  await server.start();
  // (Unless the app got there first on its own.)
  await ann.page
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(waiting).toHaveCount(0, { timeout: 20_000 });
  const annRows = ann.page.locator('.bubble-row.mine');
  for (let i = 1; i <= 3; i++) {
    await expect(annRows.nth(i).getByRole('img', { name: 'Delivered' })).toBeVisible({ timeout: 45_000 });
  }
  const row = bob.page.getByRole('button', { name: `${annName}, 3 unread` });
  await expect(row).toBeVisible({ timeout: 45_000 });
  await row.click();
  await expect(bodies(bob.page)).toHaveText(['before the outage', 'got it', 'offline 1', 'offline 2', 'offline 3']);
  for (let i = 1; i <= 3; i++) {
    await expect(annRows.nth(i).getByRole('img', { name: 'Read' })).toBeVisible();
  }

  // Exactly once: the server holds each message once, in order.
  const history = await ann.page.evaluate(async () => {
    const list = await (await fetch('/api/conversations')).json();
    return (await fetch(`/api/conversations/${list[0].id}/messages`)).json();
  });
  expect(history.map((m) => [m.seq, m.body])).toEqual([
    [1, 'before the outage'],
    [2, 'got it'],
    [3, 'offline 1'],
    [4, 'offline 2'],
    [5, 'offline 3'],
  ]);

  await ann.context.close();
  await bob.context.close();
});

test('network drop: the banner tells the truth and delivery resumes', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'online');
  await expect(bob.page.getByRole('button', { name: `${annName}, 1 unread` })).toBeVisible();

  await ann.context.setOffline(true);
  const offline = ann.page.locator('.banner').filter({ hasText: 'Offline since' });
  await expect(offline).toBeVisible({ timeout: 15_000 });
  await expect(offline).toContainText(/next try in \d+ s|trying again/);
  await expect(ann.page.getByRole('button', { name: 'Retry now' })).toBeVisible();
  await send(ann.page, 'typed offline');
  await expect(ann.page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Waiting to send' })).toBeVisible();

  await ann.context.setOffline(false);
  await expect(offline).toHaveCount(0, { timeout: 15_000 });
  await expect(ann.page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Delivered' })).toBeVisible({
    timeout: 15_000,
  });
  await expect(bob.page.getByRole('button', { name: `${annName}, 2 unread` })).toBeVisible();

  await ann.context.close();
  await bob.context.close();
});

test('reactions and edits made offline survive a reload and apply once', async ({ browser, server }) => {
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'see you at 5');
  await bob.page.getByRole('button', { name: `${annName}, 1 unread` }).click();
  await send(bob.page, 'ok');
  await expect(bodies(ann.page)).toHaveText(['see you at 5', 'ok']);
  await waitForOfflineShell(ann.page);
  const row = (page, text) =>
    page.locator('.bubble-row').filter({ has: page.locator('.bubble-body').getByText(text, { exact: true }) });

  await server.stop();
  await expect(ann.page.locator('.banner').filter({ hasText: 'Offline since' })).toBeVisible();
  await row(ann.page, 'ok').getByRole('button', { name: 'Message actions' }).click();
  await ann.page.getByRole('menu').getByRole('menuitem', { name: 'React with 👍' }).click();
  await row(ann.page, 'see you at 5').getByRole('button', { name: 'Message actions' }).click();
  await ann.page.getByRole('menu').getByRole('menuitem', { name: 'Edit' }).click();
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await box.fill('see you at 6');
  await box.press('Enter');
  // Shown at once, from the outbox; still there after a reload.
  await expect(row(ann.page, 'ok').locator('.reaction')).toHaveText(['👍 1']);
  await expect(bodies(ann.page)).toHaveText(['see you at 6', 'ok']);
  await ann.page.reload();
  await expect(ann.page.locator('.me-name')).toHaveText(annName);
  await expect(row(ann.page, 'ok').locator('.reaction')).toHaveText(['👍 1']);
  await expect(bodies(ann.page)).toHaveText(['see you at 6', 'ok']);

  await server.start();
  await ann.page
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(row(bob.page, 'ok').locator('.reaction')).toHaveText(['👍 1'], { timeout: 45_000 });
  await expect(bodies(bob.page)).toHaveText(['see you at 6', 'ok']);
  const history = await bob.page.evaluate(async () => {
    const [conversation] = await (await fetch('/api/conversations')).json();
    return (await fetch(`/api/conversations/${conversation.id}/messages`)).json();
  });
  const visible = history.filter((m) => !m.action);
  expect(visible.map((m) => m.body)).toEqual(['see you at 6', 'ok']);
  expect(visible[1].reactions).toEqual([{ emoji: '👍', users: [expect.any(Number)] }]);
  expect(history.filter((m) => m.action)).toHaveLength(2);

  await ann.context.close();
  await bob.context.close();
});

