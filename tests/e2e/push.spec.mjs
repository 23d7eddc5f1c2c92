// Web Push: a device with no Natter tab open is told of a message through
// its push service and the service worker; while another tab of the
// person's is on screen, nothing is pushed. The browser's own push service
// (on the internet) is the one part stood in for: `pushManager` subscribes
// to a loopback stand-in, which decrypts what the server pushed; DevTools'
// `ServiceWorker.deliverPushMessage` then hands it to the worker, as the
// browser would.
import { test as base, expect, startServer, signUp, befriend, send, openChatWith, uniqueName, PASSWORD } from './fixtures.mjs';
import { startPushService } from './push-service.mjs';

const test = base.extend({
  server: [
    async ({}, use) => {
      const server = await startServer({ args: ['--push-to-loopback'] });
      await use(server);
      await server.dispose();
    },
    { scope: 'worker' },
  ],
  pushService: [
    async ({}, use) => {
      const service = await startPushService();
      await use(service);
      await service.close();
    },
    { scope: 'worker' },
  ],
});

/**
 * Makes `pushManager` in `person`'s pages subscribe to the stand-in, with
 * `subscription` (keys the stand-in holds); remembers the key it was asked
 * to subscribe with.
 */
async function useStandIn(person, subscription) {
  await person.context.addInitScript((subscription) => {
    let current = null;
    PushManager.prototype.getSubscription = async () => current;
    PushManager.prototype.subscribe = async (options) => {
      if (!options || options.userVisibleOnly !== true || !options.applicationServerKey) {
        throw new DOMException('userVisibleOnly and a key are required', 'NotAllowedError');
      }
      window.subscribedWithKey = options.applicationServerKey;
      current = {
        endpoint: subscription.endpoint,
        toJSON: () => subscription,
        unsubscribe: async () => {
          current = null;
          return true;
        },
      };
      return current;
    };
  }, subscription);
}

/** Logs `name` in on a new device (browser context). */
async function logIn(browser, server, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.locator('form').getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('.me-name')).toHaveText(name);
  return { context, page, name };
}

/** Says whether `page` is on screen, as a browser does when its tab is hidden or shown. */
async function onScreen(page, visible) {
  await page.evaluate((visible) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => !visible });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (visible ? 'visible' : 'hidden'),
    });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  }, visible);
}

/** Delivers `data` to `person`'s service worker as a push, the way the browser does. */
async function deliver(person, server, data) {
  const cdp = await person.context.newCDPSession(person.page);
  const registration = new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const found = registrations.find((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted);
      if (found) resolve(found);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const { registrationId } = await registration;
  // The push starts the worker if it was stopped.
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: new URL(server.url).origin,
    registrationId,
    data: JSON.stringify(data),
  });
}

/**
 * The notifications `person`'s service worker shows, asked of the worker
 * running now: an idle worker is stopped and a push starts a new one, and
 * the stopped one's handle answers nothing.
 */
async function shownBy(person) {
  const worker = person.context.serviceWorkers().at(-1);
  if (!worker) return 'no service worker running';
  try {
    return await worker.evaluate(async () =>
      (await self.registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })),
    );
  } catch (error) {
    return `the worker stopped: ${error.message}`;
  }
}

test('with no tab open, a message is pushed and the service worker shows it', async ({
  browser,
  server,
  pushService,
}) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName, { permissions: ['notifications'] });
  await befriend(ann, bob);

  // With notifications allowed, the app subscribes this device and gives
  // the server its subscription, signed with the server's key.
  await useStandIn(bob, pushService.device(bobName));
  const subscribed = bob.page.waitForResponse(
    (r) => r.url().endsWith('/api/push/subscription') && r.request().method() === 'PUT',
  );
  await bob.page.reload();
  expect((await subscribed).status()).toBe(204);
  await bob.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const { key } = await (await bob.page.request.get(new URL('/api/push', server.url).href)).json();
  expect(await bob.page.evaluate(() => window.subscribedWithKey)).toBe(key);
  await bob.page.getByRole('button', { name: 'Your profile' }).click();
  await expect(bob.page.getByRole('region', { name: 'Notifications' })).toContainText(
    'Messages reach this device while Natter is closed too.',
  );

  // Bob closes Natter on this device (his phone) and uses his laptop. What
  // the laptop says reaches Ann after what it said before about being on
  // screen (a socket's frames are handled in order), so each message below
  // is sent knowing what the server knows.
  const laptop = await logIn(browser, server, bobName);
  await bob.page.goto('about:blank');
  await openChatWith(ann.page, bobName);
  await openChatWith(laptop.page, annName);
  const laptopSays = async (visible, text) => {
    await onScreen(laptop.page, visible);
    await send(laptop.page, text);
    await expect(ann.page.locator('.bubble-body').last()).toHaveText(text);
  };
  // The laptop in the background: the phone is pushed (so it is not
  // connected any more).
  await laptopSays(false, 'going out');
  await send(ann.page, 'pushed while away');
  expect((await pushService.next()).payload.body).toBe('pushed while away');
  // The laptop on screen: nothing is pushed; in the background again, it is.
  await laptopSays(true, 'back');
  await send(ann.page, 'seen on the laptop');
  await laptopSays(false, 'away again');
  await send(ann.page, 'dinner at eight?');
  const push = await pushService.next();
  expect(push.payload).toEqual({ conversation: expect.any(Number), title: annName, body: 'dinner at eight?' });
  expect(push.encoding).toBe('aes128gcm');
  expect(push.authorization).toContain(`k=${key}`);
  await laptop.context.close();

  // The browser hands it to the worker, which shows it, tagged by
  // conversation like the app's own notifications.
  // A delivery through DevTools sometimes leaves nothing shown (the worker
  // answers, with no notification: 2 full-suite runs in about 8, never
  // alone; the cause is not found). It is delivered again then: the same
  // tag replaces a first notification, so one is still all there may be.
  const conversation = push.payload.conversation;
  await expect(async () => {
    await deliver(bob, server, push.payload);
    await expect
      .poll(() => shownBy(bob), { timeout: 5_000 })
      .toEqual([{ title: annName, body: 'dinner at eight?', tag: `conversation-${conversation}`, data: { conversation } }]);
  }).toPass({ timeout: 30_000 });
  // Clicked with no Natter window open, the worker opens one on
  // `/#conversation=<id>`: the app opens that conversation.
  await bob.page.goto(`${server.url}/#conversation=${conversation}`);
  await expect(bob.page.getByRole('heading', { name: annName })).toBeVisible();
  await expect(bob.page.locator('.bubble-body').last()).toHaveText('dinner at eight?');
  await ann.context.close();
  await bob.context.close();
});
