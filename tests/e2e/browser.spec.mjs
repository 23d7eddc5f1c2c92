// Links open in the in-app browser: a panel over the chat showing the page,
// with its address, a way out to the real browser, and Esc to close.
import { createServer } from 'node:http';
import { test, expect, signUp, openChatWith, send, uniqueName, befriend } from './fixtures.mjs';

test('a link opens in the in-app browser', async ({ browser, server }) => {
  // A web page elsewhere (another origin on loopback: the network is closed).
  const site = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Trail map</title><h1>Hello from the trail map</h1>');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  const page = `http://127.0.0.1:${site.address().port}/maps/trail?day=sat`;
  try {
    const annName = uniqueName('ann');
    const bobName = uniqueName('bob');
    const ann = await signUp(browser, server, annName);
    const bob = await signUp(browser, server, bobName);
    await befriend(ann, bob);
    await openChatWith(ann.page, bobName);
    await send(ann.page, `route: ${page}`);
    await bob.page.getByRole('button', { name: `${annName}, 1 unread` }).click();

    const link = bob.page.getByRole('link', { name: page });
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    await link.click();
    const panel = bob.page.getByRole('dialog', { name: `Web page: 127.0.0.1:${site.address().port}` });
    await expect(panel.getByRole('link', { name: 'Open in browser' })).toHaveAttribute('href', page);
    await expect(bob.page.frameLocator('iframe.browser-page').getByRole('heading')).toHaveText(
      'Hello from the trail map',
    );
    await bob.page.screenshot({ path: new URL('../../target/screenshots/browser-panel.png', import.meta.url).pathname });
    // Esc closes the page, and only the page.
    await bob.page.keyboard.press('Escape');
    await expect(panel).toHaveCount(0);
    await expect(bob.page.getByRole('heading', { name: annName, level: 2 })).toBeVisible();

    await ann.context.close();
    await bob.context.close();
  } finally {
    site.close();
  }
});
