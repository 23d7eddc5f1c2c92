// Keyboard only: a person who cannot use a mouse signs up, finds someone,
// sends, replies, reacts, edits, opens and closes a photo, records a voice
// message, moves through the chat list with arrow keys and reaches every
// menu. Nothing here clicks. Dialogs and panels keep Tab inside them, Esc
// closes the topmost, and focus goes back where it was.
import { test, expect, signUp, openChatWith, send, uniqueName, befriend, PASSWORD } from './fixtures.mjs';
import { drawnJpeg } from './media-files.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

/** Presses Tab (or Shift+Tab) until `target` has focus; fails after `most` presses. */
async function tabTo(page, target, { back = false, most = 40 } = {}) {
  for (let n = 0; n < most; n++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  await expect(target).toBeFocused();
}

/** Screenshots of what `page` shows now, in the light and the dark theme. */
async function shots(page, name) {
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: shot(`${name}-${colorScheme}`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The accessible label (or text) of what has focus. */
function focusedName(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el?.getAttribute('aria-label') || el?.textContent?.trim() || el?.tagName;
  });
}

test('a person uses Natter from the keyboard alone', async ({ browser, server }) => {
  test.setTimeout(150_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const cydName = uniqueName('cyd');
  const bob = await signUp(browser, server, bobName);
  const cyd = await signUp(browser, server, cydName);

  // Sign up.
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[keyboard] uncaught: ${error.stack ?? error.message}`));
  await page.goto(server.url);
  await tabTo(page, page.getByLabel('Username'));
  await page.keyboard.type(annName);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.locator('.me-name')).toHaveText(annName);
  const ann = { context, page, name: annName };
  await befriend(ann, bob, cyd);

  // Photos and a message from Bob, a message from Cyd: three rows.
  await openChatWith(bob.page, annName);
  await send(bob.page, 'Morning! Photo from the lake');
  await bob.page.locator('input.file-picker').setInputFiles({
    name: 'lake.jpg',
    mimeType: 'image/jpeg',
    buffer: await drawnJpeg(bob.page, 640, 480),
  });
  await expect(bob.page.locator('.bubble-row.mine[data-seq]')).toHaveCount(2);
  await openChatWith(cyd.page, annName);
  await send(cyd.page, 'hi from cyd');

  // Find a person by username.
  await tabTo(page, page.getByLabel('Find people by username'));
  await page.keyboard.type(bobName);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: bobName })).toBeVisible();

  // Send.
  const box = page.getByRole('textbox', { name: 'Message' });
  await tabTo(page, box);
  await page.keyboard.type('Lovely! Going tomorrow?');
  await page.keyboard.press('Enter');
  const mine = page.locator('.bubble-row.mine');
  await expect(mine.last().locator('.bubble-body')).toHaveText('Lovely! Going tomorrow?');

  // Reply: the message's menu, its items by arrow keys.
  const bobsText = page.locator('.bubble-row.theirs').filter({ hasText: 'Morning!' });
  const actions = bobsText.getByRole('button', { name: 'Message actions' });
  await tabTo(page, actions, { back: true });
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu');
  await expect(menu.getByRole('menuitem').first()).toBeFocused();
  await shots(page, 'keyboard-menu');
  await page.keyboard.press('End');
  await expect(menu.getByRole('menuitem').last()).toBeFocused();
  await page.keyboard.press('Home');
  for (let n = 0; n < 6; n++) await page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'Reply' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('.composer-mode')).toContainText('Replying to');
  await expect(box).toBeFocused();
  await page.keyboard.type('Yes, at nine');
  await page.keyboard.press('Enter');
  await expect(mine.last().getByRole('button', { name: 'Go to the message this replies to' })).toBeVisible();

  // Esc closes a menu and gives focus back to its button; Tab leaves it.
  await tabTo(page, actions, { back: true });
  await page.keyboard.press('Enter');
  await expect(menu.getByRole('menuitem').first()).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(actions).toBeFocused();
  // The conversation is still open: Esc closed the menu only.
  await expect(page.getByRole('heading', { name: bobName })).toBeVisible();

  // React.
  await page.keyboard.press('Enter');
  await expect(menu.getByRole('menuitem', { name: 'React with 👍' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(bobsText.getByRole('button', { name: '👍 1, yours' })).toBeVisible();

  // Edit one's own message.
  const own = mine.filter({ hasText: 'Lovely!' });
  await tabTo(page, own.getByRole('button', { name: 'Message actions' }));
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowUp');
  await expect(menu.getByRole('menuitem', { name: 'Edit' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(box).toBeFocused();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('Lovely! Going on Sunday?');
  await page.keyboard.press('Enter');
  await expect(own.locator('.bubble-body')).toHaveText('Lovely! Going on Sunday?');
  await expect(own.locator('.edited')).toBeVisible();

  // The photo: opened with Enter, the viewer holds Tab, Esc closes it and
  // focus is back on the photo.
  const photo = page.locator('.bubble-row.theirs').getByRole('button', { name: 'Open photo' });
  await tabTo(page, photo, { back: true });
  await page.keyboard.press('Enter');
  const viewer = page.getByRole('dialog', { name: 'Photo' });
  await expect(viewer.getByRole('button', { name: 'Close photo' })).toBeFocused();
  for (let n = 0; n < 3; n++) {
    await page.keyboard.press('Tab');
    await expect(viewer.getByRole('button', { name: 'Close photo' })).toBeFocused();
  }
  await page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(photo).toBeFocused();

  // A voice message from the fake microphone.
  await tabTo(page, page.getByRole('button', { name: 'Record a voice message' }));
  await page.keyboard.press('Enter');
  const recording = page.getByRole('group', { name: 'Recording a voice message' });
  await expect(recording).toBeVisible();
  await page.waitForTimeout(1500);
  await tabTo(page, recording.getByRole('button', { name: 'Send voice message' }));
  await page.keyboard.press('Enter');
  await expect(mine.last().locator('.attachment.voice')).toBeVisible();

  // The conversation menu, and back to the list with Esc.
  await tabTo(page, page.getByRole('button', { name: 'Conversation options' }), { back: true });
  await page.keyboard.press('Enter');
  await expect(menu.getByRole('menuitem').first()).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(menu).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Conversation options' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('heading', { name: bobName })).toHaveCount(0);

  // The chat list: one Tab stop, arrow keys between rows, Enter opens.
  const rows = page.locator('.conversation-row');
  await expect(rows).toHaveCount(2);
  await tabTo(page, rows.first());
  await shots(page, 'keyboard-list');
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows.first()).toBeFocused();
  await page.keyboard.press('End');
  await expect(rows.nth(1)).toBeFocused();
  const rowName = await focusedName(page);
  expect(rowName).toMatch(/, last message: /);
  await page.keyboard.press('Tab');
  await expect(rows.nth(0)).not.toBeFocused();
  await expect(rows.nth(1)).not.toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(rows.nth(1)).toBeFocused();
  // A new message moves the focused row to the top: focus moves with it.
  await send(cyd.page, 'one more thing');
  await expect(rows.first()).toHaveAccessibleName(new RegExp(`^${cydName}, 2 unread`));
  await expect(rows.first()).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 2 })).toHaveText(rowName.split(',')[0]);
  await page.keyboard.press('Escape');

  // A panel keeps Tab inside it until Esc, then focus is back on its button.
  const profile = page.getByRole('button', { name: 'your profile' });
  await tabTo(page, profile, { back: true });
  await page.keyboard.press('Enter');
  const settings = page.getByRole('form', { name: 'Profile' });
  await expect(settings.getByLabel('Display name')).toBeFocused();
  for (let n = 0; n < 60; n++) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate(() => !!document.activeElement?.closest('.panel-stack'));
    expect(inside, `Tab ${n + 1} stayed in the settings`).toBe(true);
  }
  await shots(page, 'keyboard-settings');
  await page.keyboard.press('Escape');
  await expect(settings).toHaveCount(0);
  await expect(profile).toBeFocused();

  for (const person of [ann, bob, cyd]) await person.context.close();
});
