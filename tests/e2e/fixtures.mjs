// Fixtures: a real natter-server per test file, on a free loopback port,
// with its own SQLite file; and helpers that act as a person would.
import { test as base, expect } from '@playwright/test';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts natter-server on a free loopback port with a fresh data directory.
 * `stop()` sends SIGTERM (or `signal`) and waits; `start()` brings it back on
 * the same port and data, as after an outage.
 */
export async function startServer({ args = [], dist = process.env.NATTER_DIST } = {}) {
  const bin = process.env.NATTER_SERVER_BIN;
  if (!bin || !dist) throw new Error('run through `cargo xtask test` (NATTER_SERVER_BIN, NATTER_DIST)');
  const data = mkdtempSync(join(tmpdir(), 'natter-e2e-'));
  let child = null;

  const launch = (addr) =>
    new Promise((resolve, reject) => {
      // Every test signs people up from 127.0.0.1: lift the per-address limit.
      const base = ['--addr', addr, '--data-dir', data, '--dist-dir', dist, '--sign-ups-per-hour', '100000'];
      child = spawn(bin, [...base, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = out.match(/running at (http:\/\/[\d.:]+)/);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`natter-server exited with ${code}`)));
    });

  const server = {
    url: await launch('127.0.0.1:0'),
    async stop(signal = 'SIGTERM') {
      if (!child) return;
      const running = child;
      child = null;
      const exited = new Promise((resolve) => running.on('exit', resolve));
      running.kill(signal);
      await exited;
    },
    async start() {
      await launch(new URL(server.url).host);
    },
    /** Runs `natter-server admin ARGS` against this server; its output. */
    admin(args) {
      return new Promise((resolve, reject) => {
        execFile(bin, ['admin', '--data-dir', data, ...args], (err, stdout, stderr) =>
          err ? reject(new Error(`admin ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
        );
      });
    },
    async dispose() {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    },
  };
  return server;
}

export const test = base.extend({
  server: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.dispose();
    },
    { scope: 'worker' },
  ],
});

export { expect };

let counter = 0;
/** A username nobody has used yet on this server. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}${counter}_${Date.now() % 100000}`;
}

export const PASSWORD = 'correct horse battery';

/** Opens the app in a new context and signs up `name`. */
export async function signUp(browser, server, name, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  // A panic stops the app's wasm without a word on the page: say it here.
  page.on('pageerror', (error) => console.error(`[${name}] uncaught: ${error.stack ?? error.message}`));
  await page.goto(server.url);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.me-name')).toHaveText(name);
  return { context, page, name };
}

/**
 * Makes everyone in `people` a contact of everyone else, as if each had
 * written to the others first (each opens a 1:1 chat with each), so that
 * chats and groups between them are not message requests.
 */
export async function befriend(...people) {
  for (const a of people) {
    for (const b of people) {
      if (a === b) continue;
      const url = new URL('/api/conversations', a.page.url()).href;
      const response = await a.page.request.post(url, { data: { username: b.name } });
      expect(response.ok(), `${a.name} opens a chat with ${b.name}`).toBeTruthy();
    }
  }
}

/** Finds `name` by username and opens the conversation. */
export async function openChatWith(page, name) {
  await page.getByLabel('Find people by username').fill(name);
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

/** Types a message and presses Enter. */
export async function send(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** Waits until the service worker controls the page (offline start ready). */
export async function waitForOfflineShell(page) {
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null);
}

/** The bodies of the messages on screen, in order. */
export function bodies(page) {
  return page.locator('.bubble-body');
}

/** The chat list's row of the conversation named `title` (its accessible name starts with it). */
export function chatRow(page, title) {
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByRole('button', { name: new RegExp(`^${escaped}(,|$)`) });
}
