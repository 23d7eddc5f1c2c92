// End-to-end tests: the real built client (dist/) served by the real server,
// driven in Debian's Chromium. `cargo xtask test` sets the environment.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './shared.mjs';

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
        ...CHROMIUM_ARGS,
        // A fake camera and microphone, allowed without asking.
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
      ],
    },
  },
});
