// A conversation of 10,000 messages: it opens at the newest, history loads
// as the reader scrolls up without the view jumping, and only a window of
// messages is ever in the DOM.
import { test as base, expect, startServer, signUp, openChatWith, uniqueName, befriend } from './fixtures.mjs';
import { seedConversation } from './shared.mjs';

// This file seeds quickly, so its server lets one socket send fast.
const test = base.extend({
  server: [
    async ({}, use) => {
      const server = await startServer({ args: ['--frame-rate', '100000'] });
      await use(server);
      await server.dispose();
    },
    { scope: 'worker' },
  ],
});

const TOTAL = 10_000;
const MAX_NODES = 150;

test('a 10,000-message conversation keeps a small DOM and a steady view', async ({ browser, server }) => {
  test.setTimeout(180_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, annName);
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);
  await ann.page.close();

  // Ann's other "device" sends 10,000 messages over the real protocol.
  const seeder = await ann.context.newPage();
  await seeder.goto(`${server.url}/api/me`);
  const acked = await seedConversation(seeder, TOTAL);
  expect(acked).toBe(TOTAL);

  // Bob opens it: the newest messages, at the bottom.
  const row = bob.page.getByRole('button', { name: `${annName}, ${TOTAL} unread` });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.click();
  const bubbles = bob.page.locator('.bubble-body');
  await expect(bubbles.last()).toHaveText(`message ${TOTAL}`);

  // Scrolling up loads history; the message at the top stays put each time,
  // and the DOM never holds more than a window.
  const list = bob.page.getByRole('region', { name: `Messages with ${annName}` });
  let oldestSeen = TOTAL;
  for (let step = 0; step < 25; step++) {
    await list.evaluate((el) => {
      el.scrollTop = 0;
    });
    // The view moves to older messages (the first one shown gets older)...
    await expect
      .poll(async () => Number(await bob.page.locator('li[data-seq]').first().getAttribute('data-seq')))
      .toBeLessThan(oldestSeen);
    oldestSeen = Number(await bob.page.locator('li[data-seq]').first().getAttribute('data-seq'));
    const nodes = await bob.page.locator('.messages > li').count();
    expect(nodes).toBeLessThanOrEqual(MAX_NODES);
  }
  expect(oldestSeen).toBeLessThan(TOTAL - 500);

  // The scroll position holds across a window move: the message at the top
  // of the view when the reader reached the top is still in view afterwards.
  for (let check = 0; check < 3; check++) {
    const kept = await list.evaluate(async (el) => {
      el.scrollTop = 0;
      const row = [...el.querySelectorAll('li[data-seq]')].find((li) => li.offsetTop + li.offsetHeight > 0);
      const seq = row.dataset.seq;
      await new Promise((r) => setTimeout(r, 400));
      const same = el.querySelector(`li[data-seq="${seq}"]`);
      const visible =
        same && same.offsetTop + same.offsetHeight > el.scrollTop && same.offsetTop < el.scrollTop + el.clientHeight;
      return { seq, visible, scrollTop: el.scrollTop };
    });
    expect(kept.visible, `message ${kept.seq} stayed in view`).toBe(true);
    expect(kept.scrollTop).toBeGreaterThan(0);
  }

  await ann.context.close();
  await bob.context.close();
});
