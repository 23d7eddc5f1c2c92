// End-to-end tests: the real built client (dist/) served by the real server,
// driven in Debian's Chromium. `cargo xtask test` sets the environment.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.mjs$/,
  // Two cores: one browser at a time keeps timings honest.
  workers: 1,
  // On CI a test that fails once is run again and reported as "flaky" (not
  // hidden): one slow moment on a shared 2-core machine must not sink a run.
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: '../../target/playwright',
  use: {
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // A fake camera and microphone, allowed without asking.
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
      ],
    },
  },
});
