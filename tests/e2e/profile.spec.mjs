// Profiles and profile codes: a display name and avatar that contacts see,
// and the QR round trip — the code the app draws is read back from a
// picture of it (in Rust) and opens a chat with its owner; so does the
// profile link itself.
import { test, expect, signUp, uniqueName } from './fixtures.mjs';
import { drawnJpeg } from './media-files.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

test('a profile code is scanned from a picture and a profile link opens a chat', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const ann = await signUp(browser, server, annName);

  await ann.page.getByRole('button', { name: 'Your profile' }).click();
  const profile = ann.page.getByRole('form', { name: 'Profile' });
  await profile.getByLabel('Display name').fill('Ann Archer');
  await profile
    .getByLabel('Profile picture')
    .setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: await drawnJpeg(ann.page, 600, 400) });
  await expect(profile.locator('img.avatar')).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  await profile.getByRole('button', { name: 'Save' }).click();
  await expect(profile.getByRole('status')).toHaveText('Saved.');
  const code = profile.getByRole('img', { name: 'Your profile code' });
  await expect(code).toBeVisible();
  await expect(profile.locator('figcaption a')).toHaveText(`${server.url}/#add=${annName}`);
  await ann.page.screenshot({ path: shot('profile-light') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.screenshot({ path: shot('profile-dark') });
  const picture = await code.screenshot();

  // Bob reads the code from a picture of it.
  const bob = await signUp(browser, server, uniqueName('bob'));
  await bob.page.getByRole('button', { name: 'Scan a code' }).click();
  const add = bob.page.getByRole('region', { name: 'Add a contact' });
  await add
    .getByLabel('Picture of a profile code')
    .setInputFiles({ name: 'nothing.jpg', mimeType: 'image/jpeg', buffer: await drawnJpeg(bob.page, 300, 300) });
  await expect(add.getByRole('alert')).toHaveText('No Natter profile code was found in that picture.');
  await add.getByLabel('Picture of a profile code').setInputFiles({ name: 'code.png', mimeType: 'image/png', buffer: picture });
  await expect(bob.page.getByRole('heading', { name: 'Ann Archer', level: 2 })).toBeVisible();
  // The avatar comes by URL (frames carry no pictures), and loads.
  const avatar = bob.page.locator('.conversation-header img.avatar');
  await expect(avatar).toHaveAttribute('src', /^\/api\/avatars\/[0-9a-f]{32}$/);
  await expect.poll(() => avatar.evaluate((img) => img.naturalWidth)).toBeGreaterThan(0);

  // The camera starts and stops (Chromium's fake camera shows no code).
  await bob.page.getByRole('button', { name: 'Scan a code' }).click();
  await add.getByRole('button', { name: 'Scan with camera' }).click();
  await expect(add.getByLabel('Camera')).toHaveClass(/active/);
  await expect.poll(() => add.getByLabel('Camera').evaluate((video) => video.videoWidth)).toBeGreaterThan(0);
  await add.getByRole('button', { name: 'Stop camera' }).click();
  await expect(add.getByLabel('Camera')).not.toHaveClass(/active/);

  // Cyd opens Ann's profile link: the app asks first. Cancelled, no chat
  // starts; the second time, Cyd starts it.
  const cyd = await signUp(browser, server, uniqueName('cyd'));
  const ask = cyd.page.getByRole('dialog', { name: 'Start a chat' });
  await cyd.page.goto(`${server.url}/#add=${annName}`);
  await expect(ask.getByText('Ann Archer')).toBeVisible();
  await expect(cyd.page).toHaveURL(`${server.url}/`);
  await cyd.page.screenshot({ path: shot('profile-link-asks') });
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toHaveCount(0);
  const started = await cyd.page.evaluate(() => fetch('/api/conversations').then((r) => r.json()));
  expect(started).toEqual([]);
  await cyd.page.goto(`${server.url}/#add=${annName}`);
  await ask.getByRole('button', { name: 'Start chat' }).click();
  await expect(cyd.page.getByRole('heading', { name: 'Ann Archer', level: 2 })).toBeVisible();
  // A link to someone one already chats with just opens that chat.
  await cyd.page.keyboard.press('Escape');
  await expect(cyd.page.getByRole('heading', { name: 'Ann Archer', level: 2 })).toHaveCount(0);
  await cyd.page.goto(`${server.url}/#add=${annName}`);
  await expect(ask).toHaveCount(0);
  await expect(cyd.page.getByRole('heading', { name: 'Ann Archer', level: 2 })).toBeVisible();

  for (const person of [ann, bob, cyd]) await person.context.close();
});
