// Groups with three people: create, add, message, read counts, typing,
// admin changes, leaving; a public group found by hashtag and joined (from
// then on: its past is not the newcomer's); replies,
// reactions, edits and deletions, and a quote that jumps far back.
import { test, expect, signUp, send, uniqueName, bodies, openChatWith, PASSWORD, befriend } from './fixtures.mjs';
import { drawnJpeg } from './media-files.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

test('three people in a group', async ({ browser, server }) => {
  test.setTimeout(90_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const cydName = uniqueName('cyd');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  const cyd = await signUp(browser, server, cydName);
  await befriend(ann, bob, cyd);

  // Ann creates the group with Bob.
  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Weekend hike');
  await form.getByLabel('Members (usernames)').fill(bobName);
  await form.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.page.getByRole('heading', { name: 'Weekend hike' })).toBeVisible();
  const annEvents = ann.page.locator('.group-event');
  await expect(annEvents).toHaveText(['You created the group “Weekend hike”', `You added ${bobName}`]);
  await expect(ann.page.locator('.conversation-subtitle')).toHaveText('2 members');

  // ...then adds Cyd from the group's page.
  await ann.page.getByRole('button', { name: 'Group info' }).click();
  const info = ann.page.getByRole('complementary', { name: 'Group info' });
  await info.getByLabel('Add members by username').fill(cydName);
  await info.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(info.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(3);
  await expect(annEvents.last()).toHaveText(`You added ${cydName}`);
  await info.getByRole('button', { name: 'Close group info' }).click();

  // A message reaches both; they see who sent it.
  await send(ann.page, 'Who is in for Saturday?');
  for (const person of [bob, cyd]) {
    const row = person.page.getByRole('button', { name: /^Weekend hike/ });
    await expect(row).toContainText('Who is in for Saturday?');
  }
  await bob.page.getByRole('button', { name: /^Weekend hike/ }).click();
  await expect(bob.page.locator('.bubble-row.theirs .bubble-sender')).toHaveText([annName]);
  await expect(bob.page.locator('.group-event').first()).toHaveText(`${annName} created the group “Weekend hike”`);

  // Read counts: Bob has it on screen, Cyd only stored it.
  const receipt = ann.page.locator('.bubble-row.mine').last().locator('.group-receipt');
  await expect(receipt).toHaveText('R 1');
  await expect(receipt).toHaveAttribute('aria-label', 'Read by 1 of 2');
  await receipt.click();
  const readers = ann.page.getByRole('dialog', { name: 'Read by' });
  await expect(readers).toContainText(`Read by: ${bobName}`);
  await expect(readers).toContainText(`Delivered to: ${cydName}`);
  await receipt.click();

  // Typing shows to the others, in the conversation and in the list.
  await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Me', { delay: 30 });
  await expect(ann.page.locator('.typing-status')).toHaveText(`${bobName} is typing…`);
  await expect(cyd.page.getByRole('button', { name: /^Weekend hike/ }).locator('.row-preview.typing')).toHaveText('typing…');
  await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(bodies(ann.page)).toHaveText(['Who is in for Saturday?', 'Me']);

  // Bob mentions Cyd, picking the name from the suggestions.
  const bobBox = bob.page.getByRole('textbox', { name: 'Message' });
  await bobBox.pressSequentially(`@${cydName.slice(0, 3)}`);
  const suggestions = bob.page.getByRole('listbox', { name: 'Mention someone' });
  await expect(suggestions.getByRole('option')).toHaveText([`@${cydName}`]);
  await bobBox.press('Enter');
  await expect(bobBox).toHaveValue(`@${cydName} `);
  await bobBox.pressSequentially('can you bring snacks?');
  await bobBox.press('Enter');
  const cydRow = cyd.page.getByRole('button', { name: /^Weekend hike/ });
  await expect(cydRow).toHaveAccessibleName(/1 mention/);
  await expect(cydRow.locator('.mention-badge')).toHaveText('@');
  await expect(ann.page.locator('.bubble-body .mention')).toHaveText([`@${cydName}`]);
  await expect(ann.page.locator('.bubble-body .mention.me')).toHaveCount(0);

  // Bob is not an admin: no Remove buttons for him.
  await bob.page.getByRole('button', { name: 'Group info' }).click();
  const bobInfo = bob.page.getByRole('complementary', { name: 'Group info' });
  await expect(bobInfo.getByRole('button', { name: /^Remove/ })).toHaveCount(0);
  await expect(bobInfo.getByLabel('Add members by username')).toHaveCount(0);

  // Ann makes Bob an admin; Bob renames the group.
  await ann.page.getByRole('button', { name: 'Group info' }).click();
  await info.getByRole('listitem').filter({ hasText: bobName }).getByRole('button', { name: 'Make admin' }).click();
  await expect(annEvents.last()).toHaveText(`You made ${bobName} an admin`);
  await expect(bobInfo.getByLabel('New group name')).toBeVisible();
  await bobInfo.getByLabel('New group name').fill('Saturday hike');
  await bobInfo.getByRole('button', { name: 'Rename' }).click();
  await expect(ann.page.getByRole('heading', { name: 'Saturday hike', level: 2 })).toBeVisible();
  await expect(annEvents.last()).toHaveText(`${bobName} renamed the group to “Saturday hike”`);
  await info.getByRole('button', { name: 'Close group info' }).click();
  await bobInfo.getByRole('button', { name: 'Close group info' }).click();
  await cyd.page.getByRole('button', { name: /^Saturday hike/ }).click();
  await send(cyd.page, 'Count me in, bring snacks 🥪');
  await expect(cyd.page.locator('.bubble-body .mention.me')).toHaveText([`@${cydName}`]);
  await expect(bodies(ann.page)).toHaveText([
    'Who is in for Saturday?',
    'Me',
    `@${cydName} can you bring snacks?`,
    'Count me in, bring snacks 🥪',
  ]);
  await ann.page.screenshot({ path: shot('group-light') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.screenshot({ path: shot('group-dark') });
  await ann.page.emulateMedia({ colorScheme: 'light' });

  // Cyd leaves: the others see it; Cyd can no longer write there.
  await cyd.page.getByRole('button', { name: 'Group info' }).click();
  await cyd.page.getByRole('button', { name: 'Leave group' }).click();
  await expect(annEvents.last()).toHaveText(`${cydName} left`);
  await expect(cyd.page.getByText('You are no longer in this group.').first()).toBeVisible();
  await expect(cyd.page.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await expect(ann.page.locator('.conversation-subtitle')).toHaveText('2 members');
  // Cyd's message is still signed with Cyd's name, not "Former member".
  await expect(ann.page.locator('.bubble-row.theirs .bubble-sender').last()).toHaveText(cydName);
  // "You left" in Cyd's list is an event: it carries no receipt.
  const cydListRow = cyd.page.getByRole('button', { name: /^Saturday hike/ });
  await expect(cydListRow.locator('.row-preview')).toHaveText('You left');
  await expect(cydListRow.locator('.receipt-letter')).toHaveCount(0);

  for (const person of [ann, bob, cyd]) await person.context.close();
});

test('a public group is found by its hashtag and joined', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const ann = await signUp(browser, server, annName);
  const eve = await signUp(browser, server, uniqueName('eve'));
  const tag = `cats${Date.now() % 100000}`;

  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Cat people');
  await form.getByLabel('Public hashtag').fill(`#${tag}`);
  await form
    .getByLabel('Group picture')
    .setInputFiles({ name: 'cat.jpg', mimeType: 'image/jpeg', buffer: await drawnJpeg(ann.page, 500, 500) });
  await expect(form.getByRole('img', { name: 'Group picture' })).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  await form.getByRole('button', { name: 'Create group' }).click();
  await expect(ann.page.getByRole('heading', { name: 'Cat people' })).toBeVisible();
  await expect(ann.page.locator('.conversation-header img.avatar')).toHaveAttribute('src', /^\/api\/avatars\/[0-9a-f]{32}$/);
  await send(ann.page, 'Welcome, cat people!');

  // Taking the same hashtag again is refused with a clear message.
  await ann.page.getByRole('button', { name: '+ New group' }).click();
  await form.getByLabel('Group name').fill('Copycats');
  await form.getByLabel('Public hashtag').fill(`#${tag.toUpperCase()}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await expect(form.getByRole('alert')).toHaveText('Another public group has that hashtag. Try another one.');
  await form.getByRole('button', { name: 'Cancel' }).click();

  const search = eve.page.getByLabel('Find people by username');
  await search.fill(`#${tag.slice(0, 6)}`);
  await eve.page.getByRole('button', { name: 'Search', exact: true }).click();
  const results = eve.page.getByRole('list', { name: 'Public groups' });
  await expect(results).toContainText(`#${tag} · 1 member`);
  await eve.page.screenshot({ path: shot('group-search') });
  await results.getByRole('button', { name: 'Join Cat people' }).click();
  await expect(eve.page.getByRole('heading', { name: 'Cat people' })).toBeVisible();
  // A newcomer reads the group from their join on, not its past.
  await expect(eve.page.locator('.group-event')).toHaveText(['You joined']);
  await expect(bodies(eve.page)).toHaveCount(0);
  await expect(ann.page.locator('.group-event').last()).toContainText('joined');
  await send(ann.page, 'Hi, new cat person');
  await expect(bodies(eve.page)).toHaveText(['Hi, new cat person']);

  await ann.context.close();
  await eve.context.close();
});

/** Everything this page's app saved in IndexedDB, as one JSON text. */
async function savedOnDevice(page) {
  return page.evaluate(async () => {
    const dump = {};
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('natter-account-')) continue;
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of ['messages', 'conversations', 'outbox']) {
        dump[`${name}/${store}`] = await new Promise((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      }
      db.close();
    }
    return JSON.stringify(dump);
  });
}

test('replies, reactions, edits and deletions', async ({ browser, server }) => {
  test.setTimeout(90_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const cydName = uniqueName('cyd');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  const cyd = await signUp(browser, server, cydName);
  await befriend(ann, bob, cyd);
  await ann.page.getByRole('button', { name: '+ New group' }).click();
  const form = ann.page.getByRole('form', { name: 'New group' });
  await form.getByLabel('Group name').fill('Picnic');
  await form.getByLabel('Members (usernames)').fill(`${bobName}, ${cydName}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await send(ann.page, 'Picnic at noon?');
  for (const person of [bob, cyd]) {
    await person.page.getByRole('button', { name: /^Picnic/ }).click();
    await expect(bodies(person.page)).toHaveText(['Picnic at noon?']);
  }
  // The bubble whose own text (not a quote of it) is `text`.
  const row = (page, text) =>
    page.locator('.bubble-row').filter({ has: page.locator('.bubble-body').getByText(text, { exact: true }) });
  const menu = async (page, text) => {
    await row(page, text).getByRole('button', { name: 'Message actions' }).click();
    return page.getByRole('menu');
  };

  // Bob replies; the quote shows, and clicking it jumps to the original.
  await (await menu(bob.page, 'Picnic at noon?')).getByRole('menuitem', { name: 'Reply' }).click();
  await expect(bob.page.locator('.composer-mode')).toContainText(`Replying to${annName}: Picnic at noon?`);
  await send(bob.page, 'Noon works for me');
  const reply = row(ann.page, 'Noon works for me');
  await expect(reply.getByRole('button', { name: 'Go to the message this replies to' })).toContainText(
    `${annName}Picnic at noon?`.replace(annName, 'You'),
  );
  await reply.getByRole('button', { name: 'Go to the message this replies to' }).click();
  await expect(ann.page.locator('.bubble-row.flash')).toContainText('Picnic at noon?');

  // Reactions: Cyd and Ann give 👍, counted once each; Ann takes hers back.
  await (await menu(cyd.page, 'Picnic at noon?')).getByRole('menuitem', { name: 'React with 👍' }).click();
  await expect(row(ann.page, 'Picnic at noon?').locator('.reaction')).toHaveText(['👍 1']);
  await (await menu(ann.page, 'Picnic at noon?')).getByRole('menuitem', { name: 'React with 👍' }).click();
  await expect(row(bob.page, 'Picnic at noon?').locator('.reaction')).toHaveText(['👍 2']);
  await (await menu(bob.page, 'Picnic at noon?')).getByRole('menuitem', { name: 'React with 😂' }).click();
  await expect(row(ann.page, 'Picnic at noon?').locator('.reaction')).toHaveText(['👍 2', '😂 1']);
  await row(ann.page, 'Picnic at noon?').getByRole('button', { name: '👍 2, yours' }).click();
  await expect(row(cyd.page, 'Picnic at noon?').locator('.reaction')).toHaveText(['👍 1', '😂 1']);

  // Ann edits her message: everyone sees the new text, marked "edited".
  await (await menu(ann.page, 'Picnic at noon?')).getByRole('menuitem', { name: 'Edit' }).click();
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await expect(box).toHaveValue('Picnic at noon?');
  await box.fill('Picnic at 1pm?');
  await box.press('Enter');
  for (const person of [ann, bob, cyd]) {
    await expect(row(person.page, 'Picnic at 1pm?').locator('.edited')).toHaveText('edited');
  }
  // Only one's own messages can be edited or deleted.
  await row(bob.page, 'Picnic at 1pm?').getByRole('button', { name: 'Message actions' }).click();
  await expect(bob.page.getByRole('menu').getByRole('menuitem', { name: 'Edit' })).toHaveCount(0);
  await expect(bob.page.getByRole('menu').getByRole('menuitem', { name: 'Delete for everyone' })).toHaveCount(0);
  await row(bob.page, 'Picnic at 1pm?').getByRole('button', { name: 'Message actions' }).click();

  // Ann deletes a message for everyone: a tombstone everywhere, and the
  // text is gone from the other devices' saved chats.
  await send(ann.page, 'The gate code is 4321');
  for (const person of [bob, cyd]) await expect(bodies(person.page).last()).toHaveText('The gate code is 4321');
  await (await menu(ann.page, 'The gate code is 4321')).getByRole('menuitem', { name: 'Delete for everyone' }).click();
  for (const person of [ann, bob, cyd]) {
    await expect(person.page.locator('.tombstone')).toHaveText(['This message was deleted']);
    await expect(person.page.getByText('gate code')).toHaveCount(0);
  }
  await expect.poll(() => savedOnDevice(bob.page)).not.toContain('gate code');
  expect(await savedOnDevice(bob.page)).toContain('Picnic at 1pm?');

  await bob.page.screenshot({ path: shot('group-actions-light') });
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await bob.page.screenshot({ path: shot('group-actions-dark') });
  for (const person of [ann, bob, cyd]) await person.context.close();
});

test('a quote of a message far back loads history until it can jump there', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const first = await signUp(browser, server, bobName);
  await befriend(ann, first);
  await first.context.close();
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'the very first message');
  // Ann's other device sends 150 more, then a reply to the first.
  const seeder = await ann.context.newPage();
  await seeder.goto(`${server.url}/api/me`);
  await seeder.evaluate(async () => {
    const [conversation] = await (await fetch('/api/conversations')).json();
    const ws = new WebSocket(`ws://${location.host}/ws`);
    const frames = [];
    for (let n = 1; n <= 150; n++) frames.push({ body: `filler ${n}` });
    frames.push({ body: 'remember this one?', reply_to: 1 });
    await new Promise((resolve, reject) => {
      let acks = 0;
      ws.onerror = () => reject(new Error('socket failed'));
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'error') reject(new Error(frame.message));
        if (frame.type === 'ack' && ++acks === frames.length) resolve();
      };
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: 'hello', version: 5, cursors: [] }));
        for (const frame of frames) {
          ws.send(JSON.stringify({ type: 'send', conversation: conversation.id, client_id: crypto.randomUUID(), ...frame }));
        }
      };
    });
    ws.close();
  });

  // Bob logs in on a new device, which holds none of it.
  const context = await browser.newContext();
  const bob = { context, page: await context.newPage() };
  await bob.page.goto(server.url);
  await bob.page.getByRole('tab', { name: 'Log in' }).click();
  await bob.page.getByLabel('Username').fill(bobName);
  await bob.page.getByLabel('Password').fill(PASSWORD);
  await bob.page.getByRole('button', { name: 'Log in', exact: true }).last().click();
  await bob.page.getByRole('button', { name: new RegExp(`^${annName}`) }).click();
  const reply = bob.page.locator('.bubble-row').filter({ hasText: 'remember this one?' });
  const quote = reply.getByRole('button', { name: 'Go to the message this replies to' });
  await expect(quote).toHaveText('An earlier message');
  await quote.click();
  await expect(bob.page.locator('.bubble-row.flash')).toContainText('the very first message', { timeout: 20_000 });
  // The window moved back to it: the DOM still holds a bounded number of items.
  expect(await bob.page.locator('.messages > li').count()).toBeLessThanOrEqual(150);

  await ann.context.close();
  await bob.context.close();
});
