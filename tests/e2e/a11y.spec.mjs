// Accessibility: axe-core's WCAG 2.1 A and AA rules, run against the real
// app on every main screen, in light and dark, at a wide and a phone width.
// Any violation fails the test with the rule, the element and the fix axe
// suggests.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test, expect, signUp, openChatWith, send, uniqueName, befriend } from './fixtures.mjs';
import { drawnJpeg } from './media-files.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const RULES = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const SIZES = {
  wide: { width: 1100, height: 720 },
  phone: { width: 390, height: 780 },
};

/** Axe's violations on `page` as it is now, in one line each. */
async function violations(page) {
  // Evaluated rather than added as a <script>: the app's CSP allows no
  // inline scripts, and the checker must not need the app to change.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const found = await page.evaluate(
    (rules) => window.axe.run(document, { runOnly: { type: 'tag', values: rules }, iframes: false }),
    RULES,
  );
  return found.violations.flatMap((v) =>
    v.nodes.map((node) => `${v.impact} ${v.id}: ${node.target.join(' ')} — ${node.failureSummary.replace(/\s+/g, ' ')}`),
  );
}

/**
 * The controls on screen smaller than 44 × 44 px, which a finger misses.
 * Links inside running text are exempt (WCAG 2.5.5); a checkbox or radio
 * button is as big as its label, which takes the tap too.
 */
function smallTargets(page) {
  return page.evaluate(() => {
    const controls = 'button, a[href], input, select, textarea, [role=menuitem], [role=option], [role=tab]';
    return [...document.querySelectorAll(controls)]
      .filter((el) => !el.closest('.bubble-body, figcaption, p, .visually-hidden, [aria-hidden=true]'))
      .map((el) => {
        const box = el.closest('label') ?? el;
        const rect = box.getBoundingClientRect();
        return { el, rect };
      })
      .filter(({ el, rect }) => rect.width > 0 && rect.height > 0 && getComputedStyle(el).visibility !== 'hidden')
      .filter(({ rect }) => rect.width < 44 || rect.height < 44)
      .map(({ el, rect }) => {
        const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName;
        return `target-size: "${name}" (${el.className || el.tagName}) is ${Math.round(rect.width)} × ${Math.round(rect.height)} px`;
      });
  });
}

/**
 * Runs axe on what `page` shows now, in both themes, and on a phone the
 * size of every control; `screen` names it in the failure. Themes switch
 * in place: the app follows the system's.
 */
async function check(page, screen) {
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    // The new theme's colours are in place from the next frame on.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    let lines = await violations(page);
    // A page that changed while axe read it (a receipt arriving re-renders
    // "Read by") can give a reading no screen ever showed: a violation
    // counts when a second look finds it too.
    if (lines.length > 0) {
      await page.waitForTimeout(500);
      lines = await violations(page);
    }
    for (const line of lines) found.push(`[${screen}, ${colorScheme}] ${line}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (page.viewportSize().width <= SIZES.phone.width) {
    for (const line of await smallTargets(page)) found.push(`[${screen}] ${line}`);
  }
  expect(found, found.join('\n')).toEqual([]);
}

/** A stand-in web site on loopback for the in-app browser to show. */
async function startSite() {
  const site = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>Trail map</title><h1>The trail map</h1>');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${site.address().port}`, close: () => site.close() };
}

for (const [width, viewport] of Object.entries(SIZES)) {
  test(`every screen passes axe's WCAG 2.1 AA rules at ${width} width, light and dark`, async ({ browser, server }) => {
    test.setTimeout(240_000);
    const phone = width === 'phone';
    const site = await startSite();

    const visitor = await browser.newContext({ viewport });
    const signIn = await visitor.newPage();
    await signIn.goto(server.url);
    await expect(signIn.getByRole('button', { name: 'Create account' })).toBeVisible();
    await check(signIn, 'sign-in');
    await visitor.close();

    const annName = uniqueName('ann');
    const bobName = uniqueName('bob');
    const cydName = uniqueName('cyd');
    const ann = await signUp(browser, server, annName, { viewport });
    const bob = await signUp(browser, server, bobName, { viewport });
    const cyd = await signUp(browser, server, cydName, { viewport });
    await befriend(ann, bob, cyd);
    const page = ann.page;

    // Something in every kind of bubble: text, a link, a photo, a reply.
    await openChatWith(bob.page, annName);
    await send(bob.page, 'Hey! Are we still on for Saturday?');
    await send(bob.page, `The trail map: ${site.origin}/trail`);
    await bob.page.locator('input.file-picker').setInputFiles({
      name: 'lake.jpg',
      mimeType: 'image/jpeg',
      buffer: await drawnJpeg(bob.page, 800, 600),
    });
    await expect(bob.page.locator('.bubble-row.mine[data-seq]')).toHaveCount(3);
    await openChatWith(cyd.page, annName);
    await send(cyd.page, 'see you there');

    // The chat list, with unread rows.
    const bobRow = page.getByRole('button', { name: new RegExp(`^${bobName}`) });
    await expect(bobRow).toContainText('Photo');
    await check(page, 'chat list');

    // Every sidebar panel, with no conversation open (on a phone the
    // sidebar is the whole screen then).
    await page.getByRole('button', { name: 'Your profile' }).click();
    await expect(page.getByRole('img', { name: 'Your profile code' })).toBeVisible();
    await check(page, 'profile and settings');
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await expect(page.getByRole('form', { name: 'Delete account' }).getByLabel('Your password')).toBeFocused();
    await check(page, 'delete account question');
    await page.getByRole('form', { name: 'Delete account' }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Your profile' }).click();
    await page.getByRole('button', { name: 'Scan a code' }).click();
    await expect(page.getByRole('button', { name: 'Stop camera' }).or(page.getByText('Camera'))).toBeVisible();
    await check(page, 'scan a code');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: '+ New group' }).click();
    const form = page.getByRole('form', { name: 'New group' });
    await expect(form).toBeVisible();
    await check(page, 'new group');
    await form.getByLabel('Group name').fill('Hikers');
    await form.getByLabel('Members (usernames)').fill(`${bobName}, ${cydName}`);
    await form.getByRole('button', { name: 'Create group' }).click();
    await expect(page.getByRole('heading', { name: 'Hikers' })).toBeVisible();
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill(`Hello @${bobName.slice(0, 4)}`);
    await expect(page.getByRole('listbox', { name: 'Mention someone' })).toBeVisible();
    await check(page, 'mention suggestions');
    await box.press('Enter');
    await box.press('Enter');
    await expect(page.locator('.bubble-row.mine .group-receipt')).toHaveCount(1);
    await check(page, 'group conversation');
    await page.getByRole('button', { name: 'Group info' }).click();
    await expect(page.getByRole('complementary', { name: 'Group info' })).toBeVisible();
    await check(page, 'group info (admin)');
    await page.getByRole('button', { name: 'Close group info' }).click();
    await page.locator('.bubble-row.mine .group-receipt').last().click();
    await expect(page.getByRole('dialog', { name: 'Read by' })).toBeVisible();
    await check(page, 'read by');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Search messages' }).click();
    await page.getByRole('searchbox', { name: 'Search saved messages' }).fill('Saturday');
    await check(page, 'search');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page.getByRole('dialog', { name: 'Log out' })).toBeVisible();
    await check(page, 'log out');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // A profile link's question, and a stranger's message request.
    await page.evaluate((name) => {
      location.hash = `#add=${name}`;
    }, bobName.replace('bob', 'eve'));
    await expect(page.getByRole('dialog', { name: 'Start a chat' })).toBeVisible();
    await check(page, 'start a chat');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog', { name: 'Start a chat' })).toHaveCount(0);
    const danName = uniqueName('dan');
    const dan = await signUp(browser, server, danName, { viewport });
    await openChatWith(dan.page, annName);
    await send(dan.page, 'hello from a stranger');
    await page.getByRole('button', { name: /^Message requests/ }).click();
    await check(page, 'message requests');
    await page.getByRole('button', { name: new RegExp(`^${danName}`) }).click();
    await expect(page.getByRole('region', { name: 'Message request' })).toBeVisible();
    await check(page, 'a message request');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: '← Chats' }).click();
    await dan.context.close();

    // The 1:1 conversation and what opens from it.
    await bobRow.click();
    await expect(page.getByRole('heading', { name: bobName })).toBeVisible();
    await send(page, 'Yes! See you at nine');
    await expect(page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Read' })).toBeVisible();
    await check(page, '1:1 conversation');
    const first = page.locator('.bubble-row.theirs').first();
    await first.getByRole('button', { name: 'Message actions' }).click();
    await expect(page.getByRole('menu')).toBeVisible();
    await check(page, 'message menu');
    await page.getByRole('menuitem', { name: 'Reply' }).click();
    await expect(page.locator('.composer-mode')).toContainText('Replying to');
    await check(page, 'reply');
    await page.keyboard.press('Escape');
    await page.locator('.bubble-row.mine').last().getByRole('button', { name: 'Message actions' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await expect(page.locator('.composer-mode')).toContainText('Editing');
    await check(page, 'edit');
    await page.keyboard.press('Escape');
    await first.getByRole('button', { name: 'Message actions' }).click();
    await page.getByRole('menuitem', { name: 'Report' }).click();
    await expect(page.getByRole('dialog', { name: /^Report/ })).toBeVisible();
    await check(page, 'report');
    await page.getByRole('dialog', { name: /^Report/ }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Conversation options' }).click();
    await check(page, 'conversation menu');
    await page.getByRole('menuitem', { name: 'Delete chat' }).click();
    await expect(page.getByRole('menuitem', { name: 'Delete', exact: true })).toBeFocused();
    await check(page, 'delete chat question');
    await page.keyboard.press('Escape');

    await page.locator('.bubble-row.theirs').getByRole('button', { name: 'Open photo' }).click();
    await expect(page.getByRole('dialog', { name: 'Photo' })).toBeVisible();
    await check(page, 'photo viewer');
    await page.keyboard.press('Escape');

    await page.getByRole('link', { name: `${site.origin}/trail` }).click();
    const panel = page.getByRole('dialog', { name: /^Web page/ });
    await expect(panel).toBeVisible();
    await check(page, 'in-app browser');
    await panel.getByRole('button', { name: 'Share to a chat' }).click();
    await check(page, 'share to a chat');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Record a voice message' }).click();
    const recording = page.getByRole('group', { name: 'Recording a voice message' });
    await expect(recording).toBeVisible();
    await check(page, 'voice recorder');
    // Asked for less motion, the recording dot does not pulse.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const pulse = () => recording.locator('.recording-dot').evaluate((dot) => parseFloat(getComputedStyle(dot).animationDuration));
    await expect.poll(pulse).toBeLessThan(0.001);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    await expect.poll(pulse).toBeGreaterThan(1);
    await recording.getByRole('button', { name: 'Cancel' }).click();

    // Offline: the banner.
    await ann.context.setOffline(true);
    await expect(page.locator('.banner')).toBeVisible();
    await check(page, 'offline banner');
    await ann.context.setOffline(false);

    if (phone) await expect(page.getByRole('button', { name: 'Back to conversations' })).toBeVisible();
    for (const person of [ann, bob, cyd]) await person.context.close();
    site.close();
  });
}

/**
 * At 200 % zoom (a 1100 × 720 window shows 550 × 360 CSS pixels): the page
 * never scrolls sideways, and every control in view is where a click lands
 * (nothing covers it), in both themes.
 */
async function zoomProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
    const inView = (rect, outer) =>
      rect.left >= outer.left && rect.right <= outer.right && rect.top >= outer.top && rect.bottom <= outer.bottom;
    for (const el of document.querySelectorAll('button, a[href], input, textarea, select, h1, h2, label')) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0 || el.closest('.visually-hidden')) continue;
      if (!inView(rect, { left: 0, top: 0, right: innerWidth, bottom: innerHeight })) continue;
      // Inside a scrolled list, only what the list shows.
      let scroller = el.parentElement;
      while (scroller && !/(auto|scroll|hidden)/.test(getComputedStyle(scroller).overflowY)) scroller = scroller.parentElement;
      if (scroller && !inView(rect, scroller.getBoundingClientRect())) continue;
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      const hit = document.elementFromPoint(x, y);
      if (hit && hit !== el && !el.contains(hit) && !hit.contains(el) && !(el.tagName === 'LABEL' && el.control === hit)) {
        const name = (el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30);
        problems.push(`"${name}" (${el.tagName.toLowerCase()}.${el.className}) is covered by ${hit.tagName.toLowerCase()}.${hit.className}`);
      }
    }
    return problems;
  });
}

test('at 200 % zoom nothing is cut off or covered, in light and dark', async ({ browser, server }) => {
  const zoomed = { viewport: { width: 550, height: 360 }, deviceScaleFactor: 2 };
  const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const visitor = await browser.newContext(zoomed);
  const signIn = await visitor.newPage();
  await signIn.goto(server.url);
  const ann = await signUp(browser, server, annName, zoomed);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(bob.page, annName);
  await send(bob.page, 'A long message to see how it wraps when the text is twice as big as usual, with a link https://example.com/a/rather/long/path/that/goes/on');
  const page = ann.page;
  const screens = [
    ['sign-in', signIn, async () => expect(signIn.getByRole('button', { name: 'Create account' })).toBeVisible()],
    ['list', page, async () => expect(page.getByRole('button', { name: new RegExp(`^${bobName}`) })).toBeVisible()],
    [
      'conversation',
      page,
      async () => {
        await page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
        await send(page, 'Sounds good, see you then!');
        await expect(page.locator('.bubble-row.mine')).toHaveCount(1);
      },
    ],
    [
      'settings',
      page,
      async () => {
        await page.keyboard.press('Escape');
        await page.getByRole('button', { name: 'your profile' }).click();
        await expect(page.getByLabel('Display name')).toBeVisible();
      },
    ],
  ];
  const found = [];
  for (const [name, on, reach] of screens) {
    await reach();
    for (const colorScheme of ['light', 'dark']) {
      await on.emulateMedia({ colorScheme });
      await on.screenshot({ path: shot(`zoom-200-${name}-${colorScheme}`) });
      for (const problem of await zoomProblems(on)) found.push(`[${name}, ${colorScheme}] ${problem}`);
    }
  }
  expect(found, found.join('\n')).toEqual([]);
  for (const context of [visitor, ann.context, bob.context]) await context.close();
});

test('a screen reader hears each new message once, and each connection change once', async ({ browser, server }) => {
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(bob.page, annName);
  await send(bob.page, 'sent before Ann looked');
  const page = ann.page;
  await page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();

  // The messages are a list; each item is named by who wrote it and when.
  const messages = page.getByRole('region', { name: `Messages with ${bobName}` }).getByRole('list');
  await expect(messages.getByRole('listitem', { name: new RegExp(`^${bobName}, \\d\\d:\\d\\d$`) })).toHaveCount(1);

  // New messages from Bob are said, each once; what was there before, and
  // Ann's own, are not.
  const said = page.locator('.visually-hidden[aria-live="polite"] p');
  await send(bob.page, 'first news');
  await send(bob.page, 'second news');
  await send(page, 'my answer');
  await expect(messages.getByRole('listitem', { name: new RegExp(`^You, `) })).toHaveCount(1);
  await expect(said).toHaveText([`${bobName}: first news`, `${bobName}: second news`]);

  // The server goes: "Offline" once, however long the countdown runs.
  await server.stop();
  const offline = said.filter({ hasText: /^Offline\./ });
  await expect(offline).toHaveCount(1);
  await send(page, 'while away');
  await page.waitForTimeout(2500);
  await expect(offline).toHaveCount(1);
  await expect(said.filter({ hasText: /^Back online/ })).toHaveCount(0);

  // It comes back: said once, with what is waiting.
  await server.start();
  // (Unless the app got there first on its own.)
  await page
    .locator('.banner')
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(said.filter({ hasText: /^Back online/ })).toHaveText(['Back online. Sending 1 waiting message.'], {
    timeout: 45_000,
  });
  await expect(page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Sent' }).or(
    page.locator('.bubble-row.mine').last().getByRole('img', { name: /Delivered|Read/ }),
  )).toBeVisible();
  await ann.context.close();
  await bob.context.close();
});
