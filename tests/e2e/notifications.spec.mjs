// Notifications: never asked for on load, allowed from settings; while
// the tab is hidden, one system notification per conversation (shown
// through the service worker, replaced by the conversation's next one),
// with or without the message's text; the unread count in the title; a
// clicked notification's conversation opens, and its notification goes.
import { test, expect, signUp, befriend, send, openChatWith, uniqueName, waitForOfflineShell, chatRow } from './fixtures.mjs';

/**
 * The notifications the page's service worker registration shows, once
 * those the page is showing are shown (asked in between, Chromium can take
 * longer than a poll waits to answer).
 */
const shown = (page) =>
  page.evaluate(async () => {
    await Promise.allSettled(window.showing ?? []);
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
  });

/**
 * Keeps a log of every notification `person`'s pages ask to show (the call
 * goes through to the browser as ever), from the next page load on, so
 * that "nothing else was shown" can be asserted, not only "what is shown
 * now" (a later notification of a conversation replaces the earlier).
 */
async function logNotifications(person) {
  await person.context.addInitScript(() => {
    const show = ServiceWorkerRegistration.prototype.showNotification;
    window.notified = [];
    window.showing = [];
    ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
      window.notified.push({ title, body: options.body });
      const showing = show.call(this, title, options);
      window.showing.push(showing);
      return showing;
    };
  });
  await person.page.reload();
  await expect(person.page.locator('.me-name')).toHaveText(person.name);
}

const notified = (page) => page.evaluate(() => window.notified);

/**
 * Sends `page` to the background, or brings it back. Headless Chromium
 * keeps every page visible (neither another tab in front nor a minimised
 * window hides it), so the test sets what `document.hidden` answers and
 * fires `visibilitychange`, as a browser does when the tab is hidden.
 */
async function background(page, hidden) {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (hidden ? 'hidden' : 'visible'),
    });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  }, hidden);
}

test('a hidden tab notifies per conversation and counts unread in its title', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await logNotifications(bob);
  await waitForOfflineShell(bob.page);

  // Opening the app asked nothing; the settings' button asks.
  expect(await bob.page.evaluate(() => Notification.permission)).toBe('default');
  await bob.page.getByRole('button', { name: 'Your profile' }).click();
  const settings = bob.page.getByRole('region', { name: 'Notifications' });
  const allow = settings.getByRole('button', { name: 'Allow notifications' });
  await expect(allow).toBeVisible();
  // The person says yes to the browser's question.
  await bob.context.grantPermissions(['notifications'], { origin: server.url });
  await allow.click();
  await expect(settings).toContainText('On: new messages show');
  await bob.page.getByRole('button', { name: 'Your profile' }).click();

  await openChatWith(ann.page, bobName);
  await send(ann.page, 'seen on screen');
  await expect(bob.page.getByRole('button', { name: `${annName}, 1 unread` })).toBeVisible();
  await expect(bob.page).toHaveTitle('(1) Natter');

  await background(bob.page, true);
  await send(ann.page, 'are you there?');
  await expect.poll(() => shown(bob.page)).toEqual([
    { title: annName, body: 'are you there?', tag: expect.stringMatching(/^conversation-\d+$/) },
  ]);
  await send(ann.page, 'hello again');
  await expect.poll(() => shown(bob.page)).toEqual([
    { title: annName, body: 'hello again', tag: expect.stringMatching(/^conversation-\d+$/) },
  ]);
  await expect(bob.page).toHaveTitle('(3) Natter');

  // Previews off: who, not what.
  await bob.page.evaluate(() => localStorage.setItem('natter.previews', 'off'));
  await send(ann.page, 'a secret');
  await expect.poll(() => shown(bob.page)).toEqual([
    { title: annName, body: 'New message', tag: expect.stringMatching(/^conversation-\d+$/) },
  ]);
  // Nothing while the tab was in front, one per message since.
  expect(await notified(bob.page)).toEqual([
    { title: annName, body: 'are you there?' },
    { title: annName, body: 'hello again' },
    { title: annName, body: 'New message' },
  ]);

  // A stranger's message (a request) says so, and not what it says.
  const cydName = uniqueName('cyd');
  const cyd = await signUp(browser, server, cydName);
  await openChatWith(cyd.page, bobName);
  await send(cyd.page, 'buy cheap watches');
  await expect
    .poll(() => notified(bob.page))
    .toContainEqual({ title: cydName, body: 'New message request' });
  expect(JSON.stringify(await notified(bob.page))).not.toContain('watches');
  await cyd.context.close();

  // The worker's word after a click opens the conversation.
  const [tag] = (await shown(bob.page)).map((n) => n.tag);
  const conversation = Number(tag.split('-')[1]);
  await background(bob.page, false);
  const worker = bob.context.serviceWorkers()[0];
  await worker.evaluate(async (id) => {
    for (const client of await self.clients.matchAll({ type: 'window' })) {
      client.postMessage({ type: 'open-conversation', conversation: id });
    }
  }, conversation);
  await expect(bob.page.getByRole('heading', { name: annName })).toBeVisible();
  // Ann's are read now; the stranger's request is not.
  await expect(bob.page).toHaveTitle('(1) Natter');
  // On screen, Ann's conversation needs its notification no more; the
  // request's stays.
  await expect
    .poll(async () => (await shown(bob.page)).map((n) => n.title))
    .toEqual([cydName]);

  await ann.context.close();
  await bob.context.close();
});

test('a muted conversation stays quiet, and a mention in a muted group still notifies', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName, { permissions: ['notifications'] });
  await befriend(ann, bob);
  await logNotifications(bob);
  await waitForOfflineShell(bob.page);
  const group = await (
    await ann.page.request.post(new URL('/api/groups', server.url).href, {
      data: { name: 'Hikers', members: [bobName] },
    })
  ).json();
  const menu = bob.page.getByRole('menu');
  const options = bob.page.getByRole('button', { name: 'Conversation options' });

  await openChatWith(bob.page, annName);
  await options.click();
  await menu.getByRole('menuitem', { name: 'Mute for 1 hour' }).click();
  await expect(bob.page.getByRole('button', { name: `${annName}, muted` })).toBeVisible();
  await bob.page.getByRole('button', { name: /^Hikers/ }).click();
  await options.click();
  await bob.page.screenshot({ path: new URL('../../target/screenshots/mute-menu.png', import.meta.url).pathname });
  await menu.getByRole('menuitem', { name: 'Mute until I unmute' }).click();
  await expect(bob.page.getByRole('button', { name: 'Hikers, muted' })).toBeVisible();
  // Another device of Bob's hears of both.
  const other = await bob.context.newPage();
  await other.goto(server.url);
  await expect(other.getByRole('button', { name: 'Hikers, muted' })).toBeVisible();
  await other.close();
  await bob.page.keyboard.press('Escape');

  await background(bob.page, true);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'muted words');
  await ann.page.getByRole('button', { name: /^Hikers/ }).click();
  await send(ann.page, 'hello hikers');
  // Both arrived (the title counts them).
  await expect(bob.page).toHaveTitle('(2) Natter');
  await send(ann.page, `@${bobName} are you coming?`);
  await expect.poll(() => shown(bob.page)).toEqual([
    {
      title: 'Hikers',
      body: `${annName}: @${bobName} are you coming?`,
      tag: `conversation-${group.id}`,
    },
  ]);
  // The mention, and nothing before it.
  expect(await notified(bob.page)).toEqual([{ title: 'Hikers', body: `${annName}: @${bobName} are you coming?` }]);

  await background(bob.page, false);
  await bob.page.getByRole('button', { name: /^Hikers/ }).click();
  await options.click();
  await menu.getByRole('menuitem', { name: 'Unmute' }).click();
  await expect(chatRow(bob.page, 'Hikers')).not.toHaveAccessibleName(/, muted/);

  // A timed mute ends by itself, and its mark goes with it.
  const response = await bob.page.request.put(new URL(`/api/conversations/${group.id}/mute`, server.url).href, {
    data: { for_ms: 1500 },
  });
  expect(response.ok()).toBeTruthy();
  await expect(bob.page.getByRole('button', { name: 'Hikers, muted' })).toBeVisible();
  await expect(chatRow(bob.page, 'Hikers')).not.toHaveAccessibleName(/, muted/, { timeout: 10_000 });
  await ann.context.close();
  await bob.context.close();
});
