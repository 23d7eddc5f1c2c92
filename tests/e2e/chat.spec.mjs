// Two people sign up, find each other and chat both ways, with Kik's S/D/R.
import { test, expect, signUp, openChatWith, send, uniqueName, befriend, chatRow } from './fixtures.mjs';

test('two users chat in real time with S, D and R receipts', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);

  await openChatWith(ann.page, bobName);
  await send(ann.page, 'Hello Bob!');
  const annLast = ann.page.locator('.bubble-row.mine').last();
  await expect(annLast).toContainText('Hello Bob!');
  await expect(ann.page.getByRole('textbox', { name: 'Message' })).toHaveValue('');

  // Bob's device stores it without opening the chat: D, and an unread badge.
  await expect(annLast.getByRole('img', { name: 'Delivered' })).toBeVisible();
  const row = bob.page.getByRole('button', { name: `${annName}, 1 unread` });
  await expect(row).toBeVisible();
  await expect(row).toContainText('Hello Bob!');

  // Bob opens it: R.
  await row.click();
  await expect(bob.page.locator('.bubble-row.theirs').last()).toContainText('Hello Bob!');
  await expect(annLast.getByRole('img', { name: 'Read' })).toBeVisible();
  await expect(chatRow(bob.page, annName)).not.toHaveAccessibleName(/, \d+ unread/);

  // Bob answers on two lines (Shift+Enter) with a link and some markup.
  const box = bob.page.getByRole('textbox', { name: 'Message' });
  await box.fill('Hi Ann');
  await box.press('Shift+Enter');
  await box.pressSequentially('see https://example.com/x <b>bold</b>');
  await box.press('Enter');
  const reply = ann.page.locator('.bubble-row.theirs').last();
  await expect(reply).toContainText('Hi Ann');
  await expect(reply.locator('.bubble-body')).toHaveText('Hi Ann\nsee https://example.com/x <b>bold</b>');
  const link = reply.getByRole('link', { name: 'https://example.com/x' });
  await expect(link).toHaveAttribute('href', 'https://example.com/x');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(reply.locator('b')).toHaveCount(0);
  // Ann has the chat open, so Bob sees his reply read.
  await expect(bob.page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Read' })).toBeVisible();

  await ann.context.close();
  await bob.context.close();
});

test('a reload keeps the session and the history; logout ends it', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  for (const text of ['one', 'two', 'three']) {
    await send(ann.page, text);
  }
  await expect(ann.page.locator('.bubble-row.mine').last().getByRole('img', { name: 'Delivered' })).toBeVisible();

  await ann.page.reload();
  await expect(ann.page.locator('.me-name')).toHaveText(annName);
  await chatRow(ann.page, bobName).click();
  const bodies = ann.page.locator('.bubble-row.mine .bubble-body');
  await expect(bodies).toHaveText(['one', 'two', 'three']);

  await ann.page.getByRole('button', { name: 'Log out' }).click();
  await ann.page.getByRole('dialog', { name: 'Log out' }).getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(ann.page.getByRole('button', { name: 'Create account' })).toBeVisible();
  await ann.page.reload();
  await expect(ann.page.getByRole('button', { name: 'Create account' })).toBeVisible();

  // Logging back in brings the conversation back.
  await ann.page.getByRole('tab', { name: 'Log in' }).click();
  await ann.page.getByLabel('Username').fill(annName);
  await ann.page.getByLabel('Password').fill('correct horse battery');
  await ann.page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expect(chatRow(ann.page, bobName)).toBeVisible();

  await ann.context.close();
  await bob.context.close();
});

test('bad input gets a readable error', async ({ browser, server }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByLabel('Username').fill('no spaces allowed');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('letters a–z');

  const taken = uniqueName('cat');
  await signUp(browser, server, taken);
  await page.getByLabel('Username').fill(taken.toUpperCase());
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('That username is taken. Try another one.');

  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(taken);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');

  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByLabel('Find people by username').fill('nobody_here');
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Nobody is called “nobody_here”');
  await context.close();
});
