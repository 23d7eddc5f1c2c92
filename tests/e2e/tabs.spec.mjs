// Two tabs of one account: what one queues offline the other shows at once,
// and after reconnecting each message exists once, in both tabs and on the
// server.
import { test, expect, signUp, openChatWith, send, uniqueName, bodies, befriend, chatRow } from './fixtures.mjs';

test('two tabs share the outbox and never show a message twice', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'hello from tab one');

  const second = await ann.context.newPage();
  await second.goto(server.url);
  await chatRow(second, bobName).click();
  await expect(bodies(second)).toHaveText(['hello from tab one']);

  await ann.context.setOffline(true);
  await expect(ann.page.locator('.banner').filter({ hasText: 'Offline since' })).toBeVisible({ timeout: 15_000 });
  await send(ann.page, 'queued in tab one');
  await send(second, 'queued in tab two');
  for (const page of [ann.page, second]) {
    await expect(bodies(page)).toHaveText(['hello from tab one', 'queued in tab one', 'queued in tab two']);
    await expect(page.locator('.bubble-row.mine').getByRole('img', { name: 'Waiting to send' })).toHaveCount(2);
  }

  await ann.context.setOffline(false);
  for (const page of [ann.page, second]) {
    await expect(page.locator('.bubble-row.mine').getByRole('img', { name: 'Waiting to send' })).toHaveCount(0, {
      timeout: 20_000,
    });
    await expect(bodies(page)).toHaveText(['hello from tab one', 'queued in tab one', 'queued in tab two']);
  }
  const row = bob.page.getByRole('button', { name: `${annName}, 3 unread` });
  await expect(row).toBeVisible();
  await row.click();
  await expect(bodies(bob.page)).toHaveText(['hello from tab one', 'queued in tab one', 'queued in tab two']);

  await ann.context.close();
  await bob.context.close();
});

const offlineBanner = (page) => page.locator('.banner').filter({ hasText: 'Offline since' });
const waitingIn = (page) => page.locator('.bubble-row.mine').getByRole('img', { name: 'Waiting to send' });

test('what one tab sends for another never vanishes from it', async ({ browser, server }) => {
  test.setTimeout(90_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'before the outage');
  const typer = ann.page;
  const sender = await ann.context.newPage();
  await sender.goto(server.url);
  await chatRow(sender, bobName).click();
  await expect(bodies(sender)).toHaveText(['before the outage']);

  // The typing tab's sockets are held back while `hold` is set: they open
  // and are closed at once, never reaching the server.
  let hold = false;
  await typer.routeWebSocket(/\/ws$/, (ws) => (hold ? ws.close() : ws.connectToServer()));

  await server.stop();
  for (const page of [typer, sender]) await expect(offlineBanner(page)).toBeVisible({ timeout: 15_000 });
  hold = true;
  const typed = ['offline 1', 'offline 2', 'offline 3'];
  for (const text of typed) await send(typer, text);
  for (const page of [typer, sender]) await expect(waitingIn(page)).toHaveCount(3);

  // From here on, the typing tab records any moment one of its messages is
  // missing from the screen.
  await typer.evaluate((typed) => {
    window.vanished = [];
    const check = () => {
      const shown = [...document.querySelectorAll('.bubble-body')].map((el) => el.textContent);
      for (const text of typed) if (!shown.includes(text)) window.vanished.push(text);
    };
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true, characterData: true });
  }, typed);

  // The server is back; the other tab reconnects and sends the shared outbox.
  await server.start();
  await sender
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(waitingIn(sender)).toHaveCount(0, { timeout: 20_000 });

  // The typing tab, still cut off, shows them sent at once.
  await expect(waitingIn(typer)).toHaveCount(0, { timeout: 5_000 });
  await expect(offlineBanner(typer)).toBeVisible();
  await expect(bodies(typer)).toHaveText(['before the outage', ...typed]);
  await expect(typer.locator('.bubble-row.mine').last().getByRole('img', { name: /Sent|Delivered/ })).toBeVisible();
  expect(await typer.evaluate(() => window.vanished)).toEqual([]);

  // Let it through: it catches up and nothing is doubled.
  hold = false;
  await typer.getByRole('button', { name: 'Retry now' }).click();
  await expect(offlineBanner(typer)).toHaveCount(0, { timeout: 10_000 });
  await expect(bodies(typer)).toHaveText(['before the outage', ...typed]);
  expect(await typer.evaluate(() => window.vanished)).toEqual([]);
  const history = await typer.evaluate(async () => {
    const list = await (await fetch('/api/conversations')).json();
    return (await fetch(`/api/conversations/${list[0].id}/messages`)).json();
  });
  expect(history.map((m) => m.body)).toEqual(['before the outage', ...typed]);

  await ann.context.close();
  await bob.context.close();
});

test('when one tab reconnects, the others stop waiting out their backoff', async ({ browser, server }) => {
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const ann = await signUp(browser, server, annName);
  const other = await ann.context.newPage();
  await other.goto(server.url);
  await expect(other.locator('.me-name')).toHaveText(annName);

  await server.stop();
  // Wait until the first tab's next try is far off.
  const nextTry = async () => {
    const text = (await offlineBanner(ann.page).textContent({ timeout: 1_000 }).catch(() => '')) ?? '';
    const found = text.match(/next try in (\d+) s/);
    return found ? Number(found[1]) : 0;
  };
  let seconds = 0;
  await expect
    .poll(async () => (seconds = await nextTry()), { timeout: 90_000, intervals: [200] })
    .toBeGreaterThanOrEqual(8);
  const ownRetry = Date.now() + seconds * 1000;

  await server.start();
  await other
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(offlineBanner(other)).toHaveCount(0, { timeout: 5_000 });
  // Back well before its own timer would have tried.
  await expect(offlineBanner(ann.page)).toHaveCount(0, { timeout: Math.max(1_000, ownRetry - Date.now() - 2_000) });
  expect(Date.now()).toBeLessThan(ownRetry - 1_000);

  await ann.context.close();
});
