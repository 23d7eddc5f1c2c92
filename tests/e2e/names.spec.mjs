// Names and text that try to break the layout or deceive: one long unbroken
// word, direction controls and zero-width characters; and the small slips of
// wording and state that a new user meets first.
import { test, expect, signUp, openChatWith, send, uniqueName, bodies, befriend } from './fixtures.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

/** The elements matching `selector` whose right edge passes their container's. */
async function overflowing(page, container, selector) {
  return page.evaluate(
    ([container, selector]) => {
      const box = document.querySelector(container).getBoundingClientRect();
      return [...document.querySelectorAll(selector)]
        .filter((el) => el.getBoundingClientRect().right > box.right + 0.5)
        .map((el) => `${el.className}: ${el.textContent.slice(0, 40)}`);
    },
    [container, selector],
  );
}

test('one long unbroken name never pushes anything out', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  // As long as a group name may be (64), in one word.
  const long = 'Supercalifragilisticexpialidocious'.repeat(2).slice(0, 64);
  const tag = `long${Date.now() % 100000}`;

  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill(long);
  await form.getByLabel('Members (usernames)').fill(bobName);
  await form.getByLabel('Public hashtag').fill(`#${tag}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.page.getByRole('heading', { name: long, level: 2 })).toBeVisible();
  await send(ann.page, `@${bobName} ${long}`);

  // Bob has a display name of one long word too.
  await bob.page.getByRole('button', { name: 'Your profile' }).click();
  const profile = bob.page.getByRole('form', { name: 'Profile' });
  await profile.getByLabel('Display name').fill('Bartholomew'.repeat(4).slice(0, 40));
  await profile.getByRole('button', { name: 'Save' }).click();
  await expect(profile.getByRole('status')).toHaveText('Saved.');
  await profile.getByRole('button', { name: 'Close' }).click();

  // Eve searches for the group: its Join button stays in the sidebar.
  const eve = await signUp(browser, server, uniqueName('eve'));
  await eve.page.getByLabel('Find people by username').fill(`#${tag}`);
  await eve.page.getByRole('button', { name: 'Search', exact: true }).click();
  const join = eve.page.getByRole('button', { name: `Join ${long}` });
  await expect(join).toBeVisible();
  expect(await overflowing(eve.page, '.sidebar', '.group-result, .group-result button')).toEqual([]);
  await eve.page.screenshot({ path: shot('long-name-search') });

  // The list, the header, the members and the mention suggestions.
  await ann.page.getByRole('button', { name: 'Group info' }).click();
  const info = ann.page.getByRole('complementary', { name: 'Group info' });
  await expect(info.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(2);
  expect(await overflowing(ann.page, '.sidebar', '.conversation-row, .row-title')).toEqual([]);
  expect(await overflowing(ann.page, '.group-info', '.member, .member button, .group-info-header')).toEqual([]);
  expect(await overflowing(ann.page, '.conversation', '.conversation-header *')).toEqual([]);
  await ann.page.screenshot({ path: shot('long-name-group') });
  await info.getByRole('button', { name: 'Close group info' }).click();
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially(`@${bobName.slice(0, 3)}`);
  await expect(ann.page.getByRole('listbox', { name: 'Mention someone' })).toBeVisible();
  expect(await overflowing(ann.page, '.conversation', '.mention-suggestions li')).toEqual([]);

  // At phone width, one pane at a time, still nothing out of bounds.
  await ann.page.setViewportSize({ width: 375, height: 700 });
  expect(await overflowing(ann.page, 'body', '.conversation-header *, .bubble')).toEqual([]);
  await ann.page.screenshot({ path: shot('long-name-phone') });

  for (const person of [ann, bob, eve]) await person.context.close();
});

test('direction controls and invisible characters cannot disguise names or links', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);

  // A display name that would show as "live Admin" is refused in the form.
  await ann.page.getByRole('button', { name: 'Your profile' }).click();
  const profile = ann.page.getByRole('form', { name: 'Profile' });
  await profile.getByLabel('Display name').fill('\u202Eevil\u202C Admin');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expect(profile.getByRole('alert')).toHaveText(
    "Names can't contain invisible characters or characters that change the direction of the text.",
  );
  await profile.getByRole('button', { name: 'Close' }).click();

  // A link holding a right-to-left override is shown as text, controls spelled out.
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'invoice: https://exa\u202Emple.invalid/gpj.exe');
  await bob.page.getByRole('button', { name: new RegExp(`^${annName}`) }).click();
  const bubble = bob.page.locator('.bubble-row.theirs').last();
  await expect(bubble.getByRole('link')).toHaveCount(0);
  await expect(bubble.locator('.hidden-char')).toHaveText(['U+202E']);
  await expect(bubble.locator('.disguised-link')).toHaveText('https://exaU+202Emple.invalid/gpj.exe');
  // The list's preview reads as typed, not reversed after the override.
  await expect(bob.page.getByRole('button', { name: new RegExp(`^${annName}`) }).locator('.row-preview')).toHaveText(
    'invoice: https://example.invalid/gpj.exe',
  );
  await bob.page.screenshot({ path: shot('disguised-link') });

  // Zero-width characters alone are no message: nothing is queued.
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await box.fill('\u200B\u2060\uFEFF');
  await box.press('Enter');
  await expect(bodies(ann.page)).toHaveText(['invoice: https://exaU+202Emple.invalid/gpj.exe']);

  await ann.context.close();
  await bob.context.close();
});

test('small slips: a quiet signed-out start, a growing composer, cleared search results', async ({
  browser,
  server,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(server.url);
  await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible();
  expect(errors).toEqual([]);
  await context.close();

  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  await signUp(browser, server, bobName);
  await openChatWith(ann.page, bobName);

  // One long line grows the composer to its maximum, then it scrolls.
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  const oneLine = (await box.boundingBox()).height;
  await box.fill('word '.repeat(1000));
  const full = await box.evaluate((el) => ({
    height: el.getBoundingClientRect().height,
    scrolls: el.scrollHeight > el.clientHeight,
    lineHeight: parseFloat(getComputedStyle(el).lineHeight),
  }));
  expect(full.height).toBeGreaterThan(oneLine + 5 * full.lineHeight);
  expect(full.height).toBeLessThan(oneLine + 9 * full.lineHeight);
  expect(full.scrolls).toBe(true);
  await expect(ann.page.locator('.char-count')).toHaveText('904 too many');
  await ann.page.screenshot({ path: shot('composer-full') });
  await box.fill('short again');
  expect((await box.boundingBox()).height).toBeLessThanOrEqual(oneLine + 1);

  // A failed hashtag search does not leave the last results under its error.
  const tag = `hikers${Date.now() % 100000}`;
  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Hikers');
  await form.getByLabel('Public hashtag').fill(`#${tag}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  const search = ann.page.getByLabel('Find people by username');
  await search.fill(`#${tag}`);
  await ann.page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(ann.page.getByRole('list', { name: 'Public groups' })).toBeVisible();
  await ann.page.screenshot({ path: shot('group-results') });
  await search.fill('#a b');
  await ann.page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(ann.page.getByRole('alert')).toContainText('Hashtags are');
  await expect(ann.page.getByRole('list', { name: 'Public groups' })).toHaveCount(0);

  await ann.context.close();
});
