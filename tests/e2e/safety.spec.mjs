// Safety: blocking in a 1:1 chat (the blocked person sees only S and
// nothing reaches the blocker), a blocked person's messages folded in a
// shared group, the blocked list in settings; reports reaching the
// moderators' tool; message requests; exporting and deleting an account.
import { execFileSync } from 'node:child_process';
import { test, expect, signUp, send, uniqueName, bodies, openChatWith, befriend, PASSWORD } from './fixtures.mjs';
import { drawnJpeg } from './media-files.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

test('block: the blocked person sees S, the blocker sees nothing; groups fold them', async ({ browser, server }) => {
  test.setTimeout(90_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const cydName = uniqueName('cyd');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  const cyd = await signUp(browser, server, cydName);
  await befriend(ann, bob, cyd);

  await openChatWith(bob.page, annName);
  await send(bob.page, 'hi ann');
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await expect(bodies(ann.page)).toHaveText(['hi ann']);

  // Ann blocks Bob from the conversation's menu: no composer, a notice.
  await ann.page.getByRole('button', { name: 'Conversation options' }).click();
  await ann.page.getByRole('menuitem', { name: `Block @${bobName}` }).click();
  const notice = ann.page.getByRole('status').filter({ hasText: `You blocked @${bobName}` });
  await expect(notice).toBeVisible();
  await expect(ann.page.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await ann.page.screenshot({ path: shot('blocked-conversation') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.setViewportSize({ width: 390, height: 760 });
  await ann.page.getByRole('button', { name: 'Conversation options' }).click();
  await ann.page.screenshot({ path: shot('blocked-conversation-phone-dark') });
  await ann.page.getByRole('button', { name: 'Conversation options' }).click();
  await ann.page.emulateMedia({ colorScheme: 'light' });
  await ann.page.setViewportSize({ width: 1280, height: 720 });

  // Bob's next message is sent (S) and never delivered; Ann never sees it,
  // while a message from Cyd, sent after it, reaches her.
  await send(bob.page, 'why are you ignoring me?');
  const bobLast = bob.page.locator('.bubble-row.mine').last();
  await expect(bobLast.getByRole('img', { name: 'Sent' })).toBeVisible();
  await openChatWith(cyd.page, annName);
  await send(cyd.page, 'cyd here');
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${cydName}`) })).toContainText('cyd here');
  await expect(bodies(ann.page)).toHaveText(['hi ann']);
  await expect(bobLast.getByRole('img', { name: 'Sent' })).toBeVisible();

  // In a group they share, Bob's messages come folded, and open on request.
  await cyd.page.getByRole('button', { name: '+ New group' }).click();
  const form = cyd.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Book club');
  await form.getByLabel('Members (usernames)').fill(`${annName}, ${bobName}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await bob.page.getByRole('button', { name: /^Book club/ }).click();
  await send(bob.page, 'chapter three is great');
  await ann.page.getByRole('button', { name: /^Book club/ }).click();
  const folded = ann.page.getByRole('button', { name: 'Message from a blocked person · Show' });
  await expect(folded).toBeVisible();
  await expect(ann.page.getByText('chapter three is great')).toBeHidden();
  await ann.page.screenshot({ path: shot('blocked-in-group') });
  await folded.click();
  await expect(ann.page.getByText('chapter three is great')).toBeVisible();

  // The blocked list in settings; unblocking there lets Bob through again,
  // and what was withheld stays withheld.
  await ann.page.getByRole('button', { name: 'Your profile' }).click();
  const list = ann.page.getByRole('region', { name: 'Blocked people' });
  await expect(list.getByRole('listitem')).toHaveText([new RegExp(`@${bobName}`)]);
  await list.scrollIntoViewIfNeeded();
  await ann.page.screenshot({ path: shot('blocked-people') });
  await list.getByRole('button', { name: `Unblock @${bobName}` }).click();
  await expect(list).toContainText("You haven't blocked anyone.");
  await ann.page.getByRole('button', { name: 'Your profile' }).click();
  await bob.page.getByRole('button', { name: new RegExp(`^${annName}`) }).click();
  await send(bob.page, 'sorry');
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await expect(bodies(ann.page)).toHaveText(['hi ann', 'sorry']);
  await expect(ann.page.getByRole('textbox', { name: 'Message' })).toBeVisible();

  for (const person of [ann, bob, cyd]) await person.context.close();
});

test('report: a message reported with context reaches the moderators', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(bob.page, annName);
  for (const text of ['hello', 'free coins at scam.example']) await send(bob.page, text);
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await expect(bodies(ann.page)).toHaveText(['hello', 'free coins at scam.example']);

  // From the message's menu: a reason, a note, and block them too.
  const scam = ann.page.locator('.bubble-row.theirs').last();
  await scam.hover();
  await scam.getByRole('button', { name: 'Message actions' }).click();
  await scam.getByRole('menuitem', { name: 'Report' }).click();
  const dialog = ann.page.getByRole('dialog', { name: `Report a message from @${bobName}` });
  await dialog.getByRole('button', { name: 'Report' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Pick what is wrong.');
  await dialog.getByLabel('Spam or scam').check();
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await dialog.getByLabel('Anything to add (optional)').fill('sent to everyone');
  await expect(dialog.getByLabel(`Also block @${bobName}`)).toBeChecked();
  await ann.page.screenshot({ path: shot('report-dialog') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.setViewportSize({ width: 390, height: 760 });
  await ann.page.screenshot({ path: shot('report-dialog-phone-dark') });
  await ann.page.emulateMedia({ colorScheme: 'light' });
  await ann.page.setViewportSize({ width: 1280, height: 720 });
  await dialog.getByRole('button', { name: 'Report' }).click();
  await expect(dialog.getByRole('status')).toHaveText("Thank you. Natter's moderators will look at it.");
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);
  // Esc closes a report dialog and leaves the conversation open.
  await ann.page.getByRole('button', { name: 'Conversation options' }).click();
  await ann.page.getByRole('menuitem', { name: `Report @${bobName}` }).click();
  await ann.page.getByRole('dialog', { name: `Report @${bobName}` }).getByLabel('Harassment or bullying').press('Escape');
  await expect(ann.page.getByRole('dialog')).toHaveCount(0);
  await expect(ann.page.getByRole('heading', { name: bobName })).toBeVisible();
  await expect(ann.page.getByRole('status').filter({ hasText: `You blocked @${bobName}` })).toBeVisible();

  // The moderators' tool lists it with what Ann saw.
  const listed = await server.admin(['reports']);
  expect(listed).toContain(`@${annName} reported @${bobName}: Spam or scam`);
  expect(listed).toContain('Note: sent to everyone');
  expect(listed).toContain('free coins at scam.example');

  for (const person of [ann, bob]) await person.context.close();
});

test('requests: a stranger waits in Requests, blurred and without D or R, until accepted', async ({ browser, server }) => {
  test.setTimeout(90_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const cydName = uniqueName('cyd');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  const cyd = await signUp(browser, server, cydName);

  // Bob, whom Ann never wrote to, sends a note and a photo.
  await openChatWith(bob.page, annName);
  await send(bob.page, 'hi ann, it is bob from the climbing gym');
  const photo = await drawnJpeg(bob.page, 320, 240);
  await bob.page.locator('input.file-picker').setInputFiles({ name: 'wall.jpg', mimeType: 'image/jpeg', buffer: photo });
  const bobPhoto = bob.page.locator('.bubble-row.mine').last();
  await expect(bobPhoto.getByRole('img', { name: 'Sent' })).toBeVisible();

  // Ann sees a Requests entry, not a chat.
  const entry = ann.page.getByRole('button', { name: 'Message requests, 1' });
  await expect(entry).toBeVisible();
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) })).toHaveCount(0);
  await ann.page.screenshot({ path: shot('requests-entry') });
  await entry.click();
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await expect(bodies(ann.page)).toHaveText(['hi ann, it is bob from the climbing gym']);
  const veiled = ann.page.locator('.veil.veiled');
  await expect(veiled).toHaveCount(1);
  const bar = ann.page.getByRole('region', { name: 'Message request' });
  await expect(bar).toContainText(`@${bobName} wants to chat with you.`);
  await ann.page.screenshot({ path: shot('request-open') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.setViewportSize({ width: 390, height: 760 });
  await ann.page.screenshot({ path: shot('request-open-phone-dark') });
  await ann.page.emulateMedia({ colorScheme: 'light' });
  await ann.page.setViewportSize({ width: 1280, height: 720 });
  await ann.page.getByRole('button', { name: 'Show photo' }).click();
  await expect(veiled).toHaveCount(0);
  // Ann has it on screen, yet Bob sees only S.
  await expect(bobPhoto.getByRole('img', { name: 'Sent' })).toBeVisible();

  // Accepted: Bob sees R at once, and it is one of Ann's chats.
  await bar.getByRole('button', { name: 'Accept' }).click();
  await expect(bobPhoto.getByRole('img', { name: 'Read' })).toBeVisible();
  await expect(ann.page.getByRole('textbox', { name: 'Message' })).toBeVisible();
  await expect(ann.page.getByRole('button', { name: /^Message requests/ })).toHaveCount(0);
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) })).toBeVisible();

  // Cyd's request, deleted, is gone for good from Ann's list.
  await openChatWith(cyd.page, annName);
  await send(cyd.page, 'buy followers');
  await ann.page.getByRole('button', { name: 'Message requests, 1' }).click();
  await ann.page.getByRole('button', { name: new RegExp(`^${cydName}`) }).click();
  await ann.page.getByRole('region', { name: 'Message request' }).getByRole('button', { name: 'Delete' }).click();
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${cydName}`) })).toHaveCount(0);
  await expect(ann.page.getByRole('button', { name: /^Message requests/ })).toHaveCount(0);
  await ann.page.reload();
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) })).toBeVisible();
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${cydName}`) })).toHaveCount(0);

  for (const person of [ann, bob, cyd]) await person.context.close();
});

test('account: export downloads a zip of the chats; deleting leaves "deleted account" tombstones', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(bob.page, annName);
  await send(bob.page, 'my last words here');
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await expect(bodies(ann.page)).toHaveText(['my last words here']);

  // Bob downloads his data: a zip holding the conversation.
  await bob.page.getByRole('button', { name: 'Your profile' }).click();
  const data = bob.page.getByRole('region', { name: 'Your data' });
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    data.getByRole('link', { name: 'Download my data' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`natter-${bobName}.zip`);
  const saved = await download.path();
  const listing = execFileSync('python3', [
    '-c',
    'import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); d=json.loads(z.read("natter.json"));'
      + ' print(d["profile"]["username"]); print([m["body"] for c in d["conversations"] for m in c["messages"]])',
    saved,
  ]).toString();
  expect(listing).toContain(bobName);
  expect(listing).toContain('my last words here');

  // He deletes his account: a wrong password first, then his own.
  await data.getByRole('button', { name: 'Delete my account…' }).click();
  const form = bob.page.getByRole('form', { name: 'Delete account' });
  await form.getByLabel('Your password').fill('not my password');
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(form.getByRole('alert')).toHaveText('That is not your current password.');
  await data.scrollIntoViewIfNeeded();
  await bob.page.screenshot({ path: shot('delete-account') });
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await bob.page.setViewportSize({ width: 390, height: 760 });
  await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
  await bob.page.getByRole('region', { name: 'Blocked people' }).scrollIntoViewIfNeeded();
  await bob.page.screenshot({ path: shot('settings-phone-dark') });
  await bob.page.emulateMedia({ colorScheme: 'light' });
  await bob.page.setViewportSize({ width: 1280, height: 720 });
  await form.getByLabel('Your password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await expect(bob.page.getByRole('button', { name: 'Create account' })).toBeVisible();

  // Ann sees a deleted account and tombstones, and cannot write to it.
  await expect(ann.page.getByRole('heading', { name: 'Deleted account' })).toBeVisible();
  await expect(ann.page.locator('.bubble-body.tombstone')).toHaveText(['This message was deleted']);
  await expect(ann.page.getByText('This account was deleted.')).toBeVisible();
  await ann.page.screenshot({ path: shot('deleted-account') });

  for (const person of [ann, bob]) await person.context.close();
});

test('groups: an admin deletes any message, bans on removal and lets back; a chat can be deleted', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  const tag = `crag${Date.now() % 100000}`;
  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Crag crew');
  await form.getByLabel('Members (usernames)').fill(bobName);
  await form.getByLabel('Public hashtag').fill(`#${tag}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await bob.page.getByRole('button', { name: /^Crag crew/ }).click();
  await send(bob.page, 'cheap ropes at scam.example');

  // The admin deletes Bob's message for everyone.
  const spam = ann.page.locator('.bubble-row.theirs').last();
  await expect(spam).toContainText('cheap ropes');
  await spam.hover();
  await spam.getByRole('button', { name: 'Message actions' }).click();
  await spam.getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await expect(bob.page.locator('.bubble-body.tombstone')).toHaveText(['This message was deleted']);

  // Removed from the public group, Bob may not join again until let back.
  await ann.page.getByRole('button', { name: 'Group info' }).click();
  const info = ann.page.getByRole('complementary', { name: 'Group info' });
  await info.getByRole('button', { name: `Remove ${bobName}` }).click();
  const removed = info.getByRole('list', { name: 'Removed members' });
  await expect(removed.getByRole('listitem')).toHaveText([new RegExp(bobName)]);
  await ann.page.screenshot({ path: shot('group-bans') });
  const group = await ann.page.evaluate(() => location.href);
  const join = async () => {
    const conversations = await bob.page.request.get(new URL('/api/groups?hashtag=' + tag, group).href);
    const [found] = await conversations.json();
    return bob.page.request.post(new URL(`/api/groups/${found.id}/join`, group).href);
  };
  expect((await join()).status()).toBe(403);
  await removed.getByRole('button', { name: `Let ${bobName} join again` }).click();
  await expect(removed).toHaveCount(0);
  expect((await join()).status()).toBe(200);
  await info.getByRole('button', { name: 'Close group info' }).click();

  // Ann deletes the 1:1 chat with Bob from her list.
  await ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) }).click();
  await ann.page.getByRole('button', { name: 'Conversation options' }).click();
  await ann.page.getByRole('menuitem', { name: 'Delete chat' }).click();
  await ann.page.getByRole('menuitem', { name: 'Delete', exact: true }).click();
  await expect(ann.page.getByRole('button', { name: new RegExp(`^${bobName}`) })).toHaveCount(0);

  for (const person of [ann, bob]) await person.context.close();
});
