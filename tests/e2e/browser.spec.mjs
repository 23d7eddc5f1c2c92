// Links: the card the sender's server makes (readers' browsers ask the
// site nothing), and the in-app browser, whose address bar names the host
// the browser really loads. The web site is a stand-in on 127.0.0.1 (the
// network is closed); the server is started with the test setting that
// lets it fetch previews from that one origin.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { test as base, expect, startServer, signUp, openChatWith, send, uniqueName, befriend } from './fixtures.mjs';

const ICON = readFileSync(new URL('../../public/icon-192.png', import.meta.url));
const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

/** The stand-in site: an article with a card, a page that refuses frames, and a page that links on. */
async function startSite() {
  const requests = [];
  const site = createServer((request, response) => {
    requests.push({ path: request.url, agent: request.headers['user-agent'] ?? '' });
    const path = new URL(request.url, 'http://site').pathname;
    if (path === '/picture.png') {
      response.writeHead(200, { 'Content-Type': 'image/png' });
      response.end(ICON);
      return;
    }
    const headers = { 'Content-Type': 'text/html; charset=utf-8' };
    if (path === '/refuses') headers['X-Frame-Options'] = 'DENY';
    response.writeHead(200, headers);
    if (path.startsWith('/article')) {
      response.end(`<!doctype html><head>
        <title>Trail map</title>
        <meta property="og:title" content="The trail map for Saturday">
        <meta property="og:description" content="Twelve kilometres along the ridge, with a lake at the end.">
        <meta property="og:site_name" content="Hikers' Club">
        <meta property="og:image" content="/picture.png">
        </head><body><h1>Hello from the trail map</h1><a href="/second">Next page</a></body>`);
    } else if (path === '/second') {
      response.end('<!doctype html><title>Second</title><h1>The second page</h1>');
    } else {
      response.end(`<!doctype html><title>Elsewhere</title><h1>Page at ${path}</h1>`);
    }
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${site.address().port}`;
  return { origin, host: `127.0.0.1:${site.address().port}`, requests, close: () => site.close() };
}

const test = base.extend({
  site: [
    async ({}, use) => {
      const site = await startSite();
      await use(site);
      site.close();
    },
    { scope: 'worker' },
  ],
  server: [
    async ({ site }, use) => {
      const port = new URL(site.origin).port;
      const server = await startServer({ args: ['--preview-test-port', port] });
      await use(server);
      await server.dispose();
    },
    { scope: 'worker' },
  ],
});

async function pair(browser, server) {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await openChatWith(bob.page, annName);
  return { ann, bob };
}

test('a link gets a card from the server, and readers ask the site nothing', async ({ browser, server, site }) => {
  const { ann, bob } = await pair(browser, server);
  const link = `${site.origin}/article?day=sat`;
  const box = ann.page.getByRole('textbox', { name: 'Message' });
  await box.fill(`Saturday: ${link}`);
  const draft = ann.page.getByRole('group', { name: 'Link preview to send' });
  await expect(draft.getByText('The trail map for Saturday')).toBeVisible();
  await ann.page.screenshot({ path: shot('link-draft') });
  await box.press('Enter');
  await expect(draft).toHaveCount(0);
  // The sender keeps the card once the server has acknowledged the message.
  const own = ann.page.locator('.bubble .link-card');
  await expect(own.locator('.link-card-title')).toHaveText('The trail map for Saturday');
  await expect(ann.page.locator('.bubble .receipt').last()).toHaveClass(/r-[sdr]/);
  await expect(own).toHaveCount(1);

  const card = bob.page.locator('.bubble .link-card');
  await expect(card).toHaveAttribute('href', link);
  await expect(card.locator('.link-card-title')).toHaveText('The trail map for Saturday');
  await expect(card.locator('.link-card-site')).toHaveText(`Hikers' Club · ${site.host}`);
  await expect(card.locator('.link-card-description')).toHaveText(
    'Twelve kilometres along the ridge, with a lake at the end.',
  );
  const picture = card.locator('img');
  await expect(picture).toHaveJSProperty('complete', true);
  expect(await picture.evaluate((img) => img.naturalWidth)).toBe(192);
  expect(await picture.getAttribute('src')).toMatch(/^\/api\/previews\/images\/[0-9a-f]{64}$/);
  await bob.page.screenshot({ path: shot('link-card') });
  // Everything the site was asked came from Natter's server, once.
  expect(site.requests.filter((r) => r.path === '/article?day=sat')).toHaveLength(1);
  expect(site.requests.every((r) => r.agent.startsWith('natter-server/'))).toBeTruthy();

  // × sends the next link bare.
  await box.fill(`and ${site.origin}/article?day=sun`);
  await expect(draft.getByText('The trail map for Saturday')).toBeVisible();
  await draft.getByRole('button', { name: 'Remove link preview' }).click();
  await expect(draft).toHaveCount(0);
  await box.press('Enter');
  await expect(bob.page.locator('.bubble-body').last()).toContainText('day=sun');
  await expect(bob.page.locator('.bubble .link-card')).toHaveCount(1);

  // Previews off in the settings: no card is asked for.
  await ann.page.locator('.me-button').click();
  await ann.page.getByRole('checkbox', { name: 'Link previews' }).uncheck();
  await ann.page.locator('.me-button').click();
  const asked = site.requests.length;
  await box.fill(`one more ${site.origin}/article?day=mon`);
  await ann.page.waitForTimeout(1000);
  await expect(draft).toHaveCount(0);
  expect(site.requests.length).toBe(asked);

  await ann.context.close();
  await bob.context.close();
});

test('the panel names the host the browser loads, follows the page and goes back', async ({ browser, server, site }) => {
  const { ann, bob } = await pair(browser, server);
  // What a spoofer sends: looks like bank.example, loads the site.
  const spoof = `${site.origin}\\@bank.example/login`;
  await send(ann.page, `your bank: ${spoof}`);
  await bob.page.getByRole('link', { name: spoof }).click();
  const panel = bob.page.getByRole('dialog', { name: `Web page: ${site.host}` });
  await expect(panel.locator('.browser-host')).toHaveText(site.host);
  await expect(panel.locator('.padlock.insecure')).toHaveText('Not secure');
  await expect(bob.page.frameLocator('iframe.browser-page').getByRole('heading')).toHaveText(
    'Page at /@bank.example/login',
  );
  // bank.example appears only inside the full link, never as the host.
  await expect(panel.locator('.browser-host')).not.toContainText('bank.example');
  await expect(panel.locator('.browser-leads')).toHaveCount(0);
  await bob.page.screenshot({ path: shot('browser-spoof') });
  await bob.page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);

  // Moving on inside the page: the bar stops naming it; Back comes back.
  await send(ann.page, `map: ${site.origin}/article`);
  await bob.page.getByRole('link', { name: `${site.origin}/article` }).first().click();
  const map = bob.page.getByRole('dialog', { name: `Web page: ${site.host}` });
  const frame = bob.page.frameLocator('iframe.browser-page');
  await expect(frame.getByRole('heading')).toHaveText('Hello from the trail map');
  await expect(map.getByRole('button', { name: 'Back' })).toBeDisabled();
  await frame.getByRole('link', { name: 'Next page' }).click();
  await expect(frame.getByRole('heading')).toHaveText('The second page');
  await expect(map.locator('.browser-host')).toHaveText(`Left ${site.host}`);
  await expect(map.getByRole('status')).toContainText('moved on from the link');
  await map.getByRole('button', { name: 'Back' }).click();
  await expect(frame.getByRole('heading')).toHaveText('Hello from the trail map');
  await expect(map.locator('.browser-host')).toHaveText(site.host);
  // Still in Natter, with the panel open; Esc closes it, and only it.
  await bob.page.keyboard.press('Escape');
  await expect(map).toHaveCount(0);
  await expect(bob.page.getByRole('heading', { name: ann.name, level: 2 })).toBeVisible();

  await ann.context.close();
  await bob.context.close();
});

test('a site that refuses frames gets a card, and a link can be shared to another chat', async ({ browser, server, site }) => {
  const { ann, bob } = await pair(browser, server);
  const caraName = uniqueName('cara');
  const cara = await signUp(browser, server, caraName);
  await befriend(bob, cara);
  const refusing = `${site.origin}/refuses`;
  await send(ann.page, `try ${refusing}`);
  await bob.page.getByRole('link', { name: refusing }).click();
  const panel = bob.page.getByRole('dialog', { name: `Web page: ${site.host}` });
  await expect(panel.getByText(`${site.host} doesn't let other apps show its pages.`)).toBeVisible();
  await expect(panel.locator('iframe')).toHaveCount(0);
  await expect(panel.locator('.browser-refused').getByRole('link', { name: 'Open in browser' })).toHaveAttribute(
    'href',
    refusing,
  );
  await bob.page.screenshot({ path: shot('browser-refused') });
  await panel.getByRole('button', { name: 'Close web page' }).click();

  const article = `${site.origin}/article?to=cara`;
  await send(ann.page, article);
  await bob.page.getByRole('link', { name: article }).click();
  const open = bob.page.getByRole('dialog', { name: `Web page: ${site.host}` });
  await open.getByRole('button', { name: 'Share to a chat' }).click();
  const picker = bob.page.getByRole('dialog', { name: 'Send to…' });
  await picker.getByRole('button', { name: caraName }).click();
  await expect(cara.page.locator('.conversation-row', { hasText: bob.name })).toBeVisible();
  await cara.page.locator('.conversation-row', { hasText: bob.name }).click();
  await expect(cara.page.locator('.bubble-body').last()).toHaveText(article);
  await expect(cara.page.locator('.bubble .link-card-title')).toHaveText('The trail map for Saturday');

  // Phone width: the page takes the whole screen.
  await bob.page.setViewportSize({ width: 390, height: 760 });
  await bob.page.screenshot({ path: shot('browser-phone') });
  const width = await open.evaluate((element) => element.getBoundingClientRect().width);
  expect(width).toBe(390);

  await ann.context.close();
  await bob.context.close();
  await cara.context.close();
});
