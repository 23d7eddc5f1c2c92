// Installing Natter: Chromium finds nothing missing for installation on the
// served app, offers to install it, and the offer shows as "Install Natter".
import { chromium } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, uniqueName, waitForOfflineShell, PASSWORD } from './fixtures.mjs';
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
