import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints, once, which test groups this machine will skip and why (a missing tool, no root...).
    globalSetup: ['test/harness/prerequisites.ts'],
    // Forks, not threads: tests send signals, spawn agents and need process-level isolation.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Namespace-level state (bridges, agents) must not leak between files running side by side.
    isolate: true,
  },
});
