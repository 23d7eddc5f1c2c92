// Draws the install assets in public/ with the project's Chromium, so that
// they can be made again after a change (`cargo xtask pwa-assets`):
// - icon-192.png and icon-512.png: public/icon.svg as it is;
// - icon-maskable.png: the same mark on a full square, inside the middle
//   80 % that every launcher's mask keeps;
// - screenshot-wide.png and screenshot-narrow.png: a conversation at
//   desktop and phone widths, from the Playwright screenshots spec's
//   output (target/screenshots/), which must have run first.
import { chromium } from '@playwright/test';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const publicDir = join(root, 'public');
const svg = readFileSync(join(publicDir, 'icon.svg'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});

async function draw(file, size, html) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${html}</body></html>`);
  await page.screenshot({ path: join(publicDir, file), omitBackground: true });
  await page.close();
  console.log(`drew public/${file}`);
}

const sized = (size) => svg.replace('<svg ', `<svg width="${size}" height="${size}" `);
await draw('icon-192.png', 192, sized(192));
await draw('icon-512.png', 512, sized(512));
// Maskable: the background fills the square; the mark, without its own
// rounded square, shrinks to 70 % about the centre.
const mark = svg
  .replace(/<rect[^>]*\/>/, '')
  .replace('<svg ', '<svg width="512" height="512" ')
  .replace(/(<svg[^>]*>)/, '$1<rect width="512" height="512" fill="#5b3fd6"/><g transform="translate(76.8 76.8) scale(0.7)">')
  .replace('</svg>', '</g></svg>');
await draw('icon-maskable.png', 512, mark);
await browser.close();

for (const [from, to] of [
  ['conversation-light.png', 'screenshot-wide.png'],
  ['phone-conversation.png', 'screenshot-narrow.png'],
]) {
  const source = join(root, 'target/screenshots', from);
  if (!existsSync(source)) {
    console.error(`no ${source}: run the Playwright screenshots spec first`);
    process.exit(1);
  }
  copyFileSync(source, join(publicDir, to));
  console.log(`copied public/${to}`);
}
