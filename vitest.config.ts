import { defineConfig } from 'vitest/config';

/**
 * Files that load the machine on their own (100,000 services in the agent and a browser rendering them): they
 * run after the rest, alone, so that neither they nor the tests beside them wait for a core they cannot get.
 */
const ALONE = ['test/web/page-scale.test.ts'];

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
