import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

/** Browser tests for the widget, in Debian's Chromium (see scripts/test.mjs). */
export default {
  files: 'test/widget/**/*.test.ts',
  // The 'development' condition makes Lit load its dev build, which warns about misuse.
  // Production bundles (vite.config.ts) never use it.
  nodeResolve: { exportConditions: ['development'] },
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', target: 'auto' })],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-dev-shm-usage',
        ],
      },
    }),
  ],
  testFramework: { config: { timeout: 10000 } },
};
