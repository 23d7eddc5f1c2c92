// Installing Natter: Chromium finds nothing missing for installation on the
// served app, offers to install it, and the offer shows as "Install Natter";
// what other apps share reaches the conversation picked in "Send to…",
// pictures and videos only, ten at most.
import { chromium } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, signUp, befriend, uniqueName, waitForOfflineShell, PASSWORD, chatRow } from './fixtures.mjs';
import { CHROMIUM_ARGS } from './shared.mjs';

test('the served app is installable, and offers to install when the browser does', async ({ server }) => {
  // A browser profile on disk: Chromium installs nothing from incognito,
  // which every new context of the shared browser is.
  const profile = mkdtempSync(join(tmpdir(), 'natter-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(server.url);
  await page.getByLabel('Username').fill(uniqueName('ann'));
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.me-name')).toBeVisible();
  await waitForOfflineShell(page);
  const ann = { context, page };

  const cdp = await ann.context.newCDPSession(ann.page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors).toEqual([]);
  const { url, errors } = await cdp.send('Page.getAppManifest');
  expect(url).toBe(new URL('/manifest.webmanifest', server.url).href);
  expect(errors).toEqual([]);
  for (const icon of ['/icon-192.png', '/icon-512.png', '/icon-maskable.png', '/screenshot-wide.png']) {
    const response = await ann.page.request.get(new URL(icon, server.url).href);
    expect(response.headers()['content-type'], icon).toBe('image/png');
  }

  // Chromium offers to install it (`beforeinstallprompt`), and the app
  // shows the offer; using it asks the browser, and the button goes.
  const install = ann.page.getByRole('button', { name: 'Install Natter' });
  await expect(install).toBeVisible();
  await ann.page.screenshot({ path: new URL('../../target/screenshots/install-offer.png', import.meta.url).pathname });
  await install.click();
  await expect(install).toHaveCount(0);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
});

test('what another app shares goes to the conversation picked in Send to…', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await waitForOfflineShell(ann.page);
  await expect(chatRow(ann.page, bobName)).toBeVisible();

  // What the system's share sheet does with the manifest's share_target:
  // post the form to /share, where the service worker takes it.
  const landed = await ann.page.evaluate(async () => {
    const canvas = new OffscreenCanvas(320, 240);
    const context = canvas.getContext('2d');
    context.fillStyle = '#3ddc97';
    context.fillRect(0, 0, 320, 240);
    const photo = await canvas.convertToBlob({ type: 'image/jpeg' });
    const form = new FormData();
    form.append('title', 'The park');
    form.append('text', 'Look at this');
    form.append('url', 'https://example.com/park');
    form.append('media', new File([photo], 'park.jpg', { type: 'image/jpeg' }));
    const response = await fetch('/share', { method: 'POST', body: form });
    // (A response's URL never carries its fragment: the worker sent it to
    // `/#share`.)
    return { redirected: response.redirected, path: new URL(response.url).pathname, ok: response.ok };
  });
  expect(landed).toEqual({ redirected: true, path: '/', ok: true });
  await ann.page.evaluate(() => (location.hash = 'share'));

  const picker = ann.page.getByRole('dialog', { name: 'Send to…' });
  await expect(picker).toContainText('The park\nLook at this\nhttps://example.com/park');
  await expect(picker.getByRole('list', { name: 'Files' })).toHaveText(/park\.jpg \(\d+ KB\)/);
  await ann.page.screenshot({ path: new URL('../../target/screenshots/share-picker.png', import.meta.url).pathname });
  await picker.getByRole('button', { name: bobName }).click();
  await expect(picker).toHaveCount(0);

  await expect(bob.page.getByRole('button', { name: `${annName}, 2 unread` })).toBeVisible();
  await bob.page.getByRole('button', { name: `${annName}, 2 unread` }).click();
  await expect(bob.page.locator('.bubble-body').first()).toHaveText('The park\nLook at this\nhttps://example.com/park');
  await expect(bob.page.getByRole('button', { name: 'Open photo' })).toBeVisible();

  // Read once: the share is gone from the worker's keeping.
  const kept = await ann.page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('natter-share');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction('shares').objectStore('shares').get('latest');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            db.close();
            resolve(get.result ?? null);
          };
        };
      }),
  );
  expect(kept).toBeNull();
  await ann.context.close();
  await bob.context.close();
});

test('a share keeps pictures and videos only, ten at most', async ({ browser, server }) => {
  const ann = await signUp(browser, server, uniqueName('ann'));
  await waitForOfflineShell(ann.page);
  // Twelve photos, an empty one, and a file of another kind.
  await ann.page.evaluate(async () => {
    const canvas = new OffscreenCanvas(16, 16);
    canvas.getContext('2d').fillRect(0, 0, 16, 16);
    const photo = await canvas.convertToBlob({ type: 'image/jpeg' });
    const form = new FormData();
    form.append('text', 'too many');
    for (let n = 1; n <= 12; n += 1) form.append('media', new File([photo], `photo${n}.jpg`, { type: 'image/jpeg' }));
    form.append('media', new File([], 'empty.jpg', { type: 'image/jpeg' }));
    form.append('media', new File(['#!/bin/sh'], 'run.sh', { type: 'text/x-shellscript' }));
    await fetch('/share', { method: 'POST', body: form });
  });
  await ann.page.evaluate(() => (location.hash = 'share'));
  const picker = ann.page.getByRole('dialog', { name: 'Send to…' });
  const files = picker.getByRole('list', { name: 'Files' }).getByRole('listitem');
  await expect(files).toHaveCount(10);
  await expect(files.first()).toContainText('photo1.jpg');
  await expect(files.last()).toContainText('photo10.jpg');
  await expect(picker).not.toContainText('run.sh');
  await expect(picker).not.toContainText('empty.jpg');
  await picker.getByRole('button', { name: 'Cancel' }).click();
  await expect(picker).toHaveCount(0);
  await ann.context.close();
});
