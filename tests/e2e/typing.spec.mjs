// Typing indicators: shown in the list and in the conversation while the
// other person types, gone as soon as their message arrives, and gone on
// their own a few seconds after the typing stops.
import { test, expect, signUp, openChatWith, send, uniqueName, bodies, befriend } from './fixtures.mjs';

test('the other side sees who is typing, in the list and in the conversation', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'hi');
  const row = bob.page.getByRole('button', { name: new RegExp(`^${annName}`) });
  await expect(row).toContainText('hi');

  // In the list.
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('are you th', { delay: 20 });
  await expect(row.locator('.row-preview.typing')).toHaveText('typing…');
  await bob.page.screenshot({ path: new URL('../../target/screenshots/typing-list.png', import.meta.url).pathname });

  // In the conversation; the message ends it at once.
  await row.click();
  const status = bob.page.locator('.typing-status');
  await box.pressSequentially('ere?', { delay: 20 });
  await expect(status).toHaveText(`${annName} is typing…`);
  await bob.page.screenshot({ path: new URL('../../target/screenshots/typing-conversation.png', import.meta.url).pathname });
  await box.press('Enter');
  await expect(bodies(bob.page)).toHaveText(['hi', 'are you there?']);
  await expect(status).toBeEmpty();

  // Typing that stops without a message runs out by itself.
  await box.pressSequentially('wait', { delay: 20 });
  await expect(status).toHaveText(`${annName} is typing…`);
  await expect(status).toBeEmpty({ timeout: 10_000 });
  // And Ann never sees herself typing.
  await expect(ann.page.locator('.typing-status')).toBeEmpty();

  await ann.context.close();
  await bob.context.close();
});
