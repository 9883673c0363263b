import { defineConfig } from 'vitest/config';

/**
 * Files that run after the rest, alone: page-scale loads the machine on its own (100,000 services in the agent
 * and a browser rendering them), so that neither it nor the tests beside it wait for a core they cannot get;
 * a11y ran its page beside page.test.ts and the integration files and hung in ~40 % of such runs (the page
 * never showed its stale row, and Playwright answered nothing more until the test's timeout; 5b1c3d9, before
 * the receive queue, did so in 1 run of 4), while alone it passed 6 runs of 6. The cause is not found.
 */
const ALONE = ['test/web/page-scale.test.ts', 'test/web/a11y.test.ts'];

export default defineConfig({
  test: {
    // Prints, once, which test groups this machine will skip and why (a missing tool, no root...).
    globalSetup: ['test/harness/prerequisites.ts'],
    // Forks, not threads: tests send signals, spawn agents and need process-level isolation.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Namespace-level state (bridges, agents) must not leak between files running side by side.
    isolate: true,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
