// Search over the messages saved on the device: offline, case and accent
// insensitive, by word beginnings; a result opens its conversation on the
// message, loading the older pages it takes; deleted text is not found.
import { test, expect, signUp, befriend, send, openChatWith, uniqueName, waitForOfflineShell } from './fixtures.mjs';
import { seedConversation } from './shared.mjs';


test('saved messages are found offline, and a result opens on its message', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await waitForOfflineShell(bob.page);
  await openChatWith(ann.page, bobName);
  await send(ann.page, 'Rendez-vous au Café Müller, à 20h');
  await send(ann.page, 'the secret launch code is 0000');

  // Ann deletes one for everyone: its text must not be findable.
  const secret = ann.page.locator('.bubble-row').filter({ hasText: 'the secret launch code is 0000' });
  await secret.getByRole('button', { name: 'Message actions' }).click();
  await ann.page.getByRole('menu').getByRole('menuitem', { name: 'Delete for everyone' }).click();
  // Far enough back that the app has not loaded it at start.
  await seedConversation(ann.page, 150);
  await send(ann.page, 'all set');
  // Bob's device has everything, the deletion included (frames come in order).
  await expect(bob.page.getByRole('button', { name: new RegExp(`^${annName}`) })).toContainText('all set');

  // Bob, with the server down and the app reloaded from the device's copy.
  await server.stop();
  await bob.page.reload();
  await expect(bob.page.locator('.me-name')).toHaveText(bobName);
  await bob.page.getByRole('button', { name: 'Search messages' }).click();
  const search = bob.page.getByRole('searchbox', { name: 'Search saved messages' });
  await search.fill('CAFE mull');
  const results = bob.page.getByRole('list', { name: 'Messages found' }).getByRole('button');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(annName);
  await expect(results.first().locator('mark')).toHaveText(['Café', 'Müll']);
  await expect(bob.page.getByRole('status').filter({ hasText: '1 message' })).toBeVisible();

  await search.fill('launch');
  await expect(bob.page.getByText('No saved message has these words.')).toBeVisible();
  await search.fill('messag');
  await expect(bob.page.getByText('150 messages, the newest 50 shown')).toBeVisible();

  // The result opens the conversation on the message, 150 messages back.
  await search.fill('rendez vous');
  await results.first().click();
  await expect(bob.page.getByRole('heading', { name: annName })).toBeVisible();
  const found = bob.page.locator('.bubble-row').filter({ hasText: 'Rendez-vous au Café Müller' });
  await expect(found).toBeInViewport();
  await expect(found).toHaveClass(/flash/);

  await server.start();
  await ann.context.close();
  await bob.context.close();
});
