// Fixtures: a real natter-server per test file, on a free loopback port,
// with its own SQLite file; and helpers that act as a person would.
import { test as base, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startServer() {
  const bin = process.env.NATTER_SERVER_BIN;
  const dist = process.env.NATTER_DIST;
  if (!bin || !dist) throw new Error('run through `cargo xtask test` (NATTER_SERVER_BIN, NATTER_DIST)');
  const data = mkdtempSync(join(tmpdir(), 'natter-e2e-'));
  const child = spawn(bin, ['--addr', '127.0.0.1:0', '--data-dir', data, '--dist-dir', dist], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/running at (http:\/\/[\d.:]+)/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`natter-server exited with ${code}`)));
  });
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export const test = base.extend({
  server: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.stop();
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
  await page.goto(server.url);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.me-name')).toHaveText(name);
  return { context, page };
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
