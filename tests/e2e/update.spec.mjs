// A new build replaces the old one cleanly: the running app keeps working on
// its build, says "a new version is ready", and reloads onto it on request.
import { test as base, expect, startServer, signUp, uniqueName } from './fixtures.mjs';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A copy of the built client that the test can turn into a "new build". */
function copyOfDist() {
  const dir = mkdtempSync(join(tmpdir(), 'natter-dist-'));
  cpSync(process.env.NATTER_DIST, dir, { recursive: true });
  return dir;
}

/** Moves the app's files to a new content hash, as a rebuild would. */
function rebuild(dir) {
  const app = readdirSync(dir).find((name) => /^app-[0-9a-f]{16}$/.test(name));
  const oldHash = app.slice('app-'.length);
  const newHash = [...oldHash].reverse().join('');
  renameSync(join(dir, app), join(dir, `app-${newHash}`));
  // index.html names the files; sw.js lists them and carries the build's
  // name, a hash of everything built (so it changes too).
  for (const name of ['index.html', 'sw.js']) {
    const path = join(dir, name);
    const text = readFileSync(path, 'utf8')
      .replaceAll(oldHash, newHash)
      .replace(/const BUILD = '([^']+)'/, (_, build) => `const BUILD = '${build}-rebuilt'`);
    writeFileSync(path, text);
    // The server revalidates these by Last-Modified, in whole seconds: a
    // copy and a rewrite in the same second would look unchanged (304), as
    // two real builds never are.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path, later, later);
    rmSync(`${path}.br`, { force: true });
    rmSync(`${path}.gz`, { force: true });
  }
  return { oldHash, newHash };
}

const test = base.extend({
  dist: [
    async ({}, use) => {
      const dir = copyOfDist();
      await use(dir);
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  server: [
    async ({ dist }, use) => {
      const server = await startServer({ dist });
      await use(server);
      await server.dispose();
    },
    { scope: 'worker' },
  ],
});

/** The build the page is running: its script's URL, which names its app directory. */
function runningBuild(page) {
  return page.evaluate(() => document.querySelector('link[rel="modulepreload"]').getAttribute('href'));
}

test('a new build is offered, and taken on reload', async ({ browser, server, dist }) => {
  const ann = await signUp(browser, server, uniqueName('ann'));
  await ann.page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await server.stop();
  const { oldHash, newHash } = rebuild(dist);
  await server.start();

  // The running app looks for a new build (as it does every half hour)...
  await ann.page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  const banner = ann.page.getByRole('status').filter({ hasText: 'A new version of Natter is ready.' });
  await expect(banner).toBeVisible({ timeout: 20_000 });
  // ...and keeps running, and reopening, its own build meanwhile: even a
  // part it never opened comes from its saved copy (the server has only
  // the new build's).
  await ann.page.reload();
  expect(await runningBuild(ann.page)).toContain(oldHash);
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await ann.page.locator('.me-button').click();
  await expect(ann.page.getByLabel('Display name')).toBeVisible();

  const reloaded = ann.page.waitForEvent('load');
  await banner.getByRole('button', { name: 'Reload' }).click();
  await reloaded;
  expect(await runningBuild(ann.page)).toContain(newHash);
  await expect(ann.page.locator('.me-name')).toBeVisible();
  await expect(banner).toHaveCount(0);
  await ann.context.close();
});

test('a part this device cannot fetch any more offers a reload instead of stopping the app', async ({
  browser,
  server,
}) => {
  // No service worker, so nothing was saved: as in a private window.
  const bob = await signUp(browser, server, uniqueName('bob'), { serviceWorkers: 'block' });
  // The server has a newer build: this build's side panels are gone.
  await bob.page.route(/\/app-[0-9a-f]{16}\/split_panels\.wasm$/, (route) => route.fulfill({ status: 404 }));
  await bob.page.getByRole('button', { name: '+ New group' }).click();
  const notice = bob.page.getByRole('alert').filter({ hasText: 'Natter has been updated.' });
  await expect(notice).toBeVisible();
  await expect(notice.getByRole('button', { name: 'Reload' })).toBeVisible();
  // The rest of the app still works.
  await bob.page.getByLabel('Find people by username').fill('nobody_here');
  await bob.page.getByRole('button', { name: 'Chat', exact: true }).click();
  await expect(bob.page.getByRole('alert').filter({ hasText: 'Nobody is called “nobody_here”.' })).toBeVisible();
  await bob.context.close();
});
