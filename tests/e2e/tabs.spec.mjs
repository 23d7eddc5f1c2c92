// Two tabs of one account: what one queues offline the other shows at once,
// and after reconnecting each message exists once, in both tabs and on the
// server.
import { test, expect, signUp, openChatWith, send, uniqueName, bodies } from './fixtures.mjs';

test('two tabs share the outbox and never show a message twice', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'hello from tab one');

  const second = await ann.context.newPage();
  await second.goto(server.url);
  await second.getByRole('button', { name: bobName, exact: true }).click();
  await expect(bodies(second)).toHaveText(['hello from tab one']);

  await ann.context.setOffline(true);
  await expect(ann.page.getByRole('status').filter({ hasText: 'Offline since' })).toBeVisible({ timeout: 15_000 });
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
