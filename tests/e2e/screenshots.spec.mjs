// Stages a real conversation and saves screenshots of the main screens in
// light and dark themes and at phone width, to target/screenshots/, so that
// people can look at what the app shows.
import { test, expect, signUp, openChatWith, send, uniqueName, befriend, chatRow } from './fixtures.mjs';

const dir = new URL('../../target/screenshots', import.meta.url).pathname;

test('screens in light, dark and phone layouts', async ({ browser, server }) => {
  const signup = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const signupPage = await signup.newPage();
  await signupPage.goto(server.url);
  await expect(signupPage.getByRole('button', { name: 'Create account' })).toBeVisible();
  await signupPage.screenshot({ path: `${dir}/signup-light.png` });
  await signup.close();

  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const catName = uniqueName('cat');
  for (const colorScheme of ['light', 'dark']) {
    const view = { viewport: { width: 1100, height: 720 }, colorScheme };
    const ann = await signUp(browser, server, colorScheme === 'light' ? annName : `${annName}d`, view);
    const me = colorScheme === 'light' ? annName : `${annName}d`;
    const bob = await signUp(browser, server, colorScheme === 'light' ? bobName : `${bobName}d`, view);
    const cat = await signUp(browser, server, colorScheme === 'light' ? catName : `${catName}d`, view);
    await befriend(ann, bob, cat);
    const bobMe = colorScheme === 'light' ? bobName : `${bobName}d`;

    await openChatWith(cat.page, me);
    await send(cat.page, 'are we still on for tonight?');
    await openChatWith(bob.page, me);
    await send(bob.page, 'Hey! Did you see the new park by the river?');
    await openChatWith(ann.page, bobMe);
    await send(ann.page, 'Not yet, is it nice?');
    await send(bob.page, 'Really nice. Photos here: https://example.com/park\nWe could go Saturday');
    await send(ann.page, 'Saturday works 🙌');
    await expect(ann.page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Read' })).toBeVisible();
    await ann.page.screenshot({ path: `${dir}/conversation-${colorScheme}.png` });
    await ann.page.getByRole('button', { name: 'Log out' }).click();
    await expect(ann.page.getByRole('dialog', { name: 'Log out' })).toBeVisible();
    await ann.page.screenshot({ path: `${dir}/logout-${colorScheme}.png` });
    await ann.page.getByRole('button', { name: 'Cancel' }).click();
    await expect(ann.page.getByRole('dialog', { name: 'Log out' })).toHaveCount(0);
    await ann.page.getByRole('button', { name: 'Your profile' }).click();
    await ann.page.getByRole('button', { name: 'Allow notifications' }).scrollIntoViewIfNeeded();
    await ann.page.screenshot({ path: `${dir}/settings-${colorScheme}.png` });
    await ann.page.getByRole('button', { name: 'Your profile' }).click();

    if (colorScheme === 'light') {
      const phone = await browser.newContext({ viewport: { width: 390, height: 780 }, colorScheme });
      const page = await phone.newPage();
      await page.goto(server.url);
      await page.getByRole('tab', { name: 'Log in' }).click();
      await page.getByLabel('Username').fill(me);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await expect(chatRow(page, bobMe)).toBeVisible();
      await page.screenshot({ path: `${dir}/phone-list.png` });
      await chatRow(page, bobMe).click();
      await expect(page.getByRole('button', { name: 'Back to conversations' })).toBeVisible();
      await page.screenshot({ path: `${dir}/phone-conversation.png` });
      await page.keyboard.press('Escape');
      await expect(chatRow(page, bobMe)).toBeVisible();
      await phone.close();
    }
    for (const person of [ann, bob, cat]) await person.context.close();
  }
});
