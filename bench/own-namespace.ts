/**
 * Runs a benchmark inside a throwaway network namespace holding only loopback, so its multicast never reaches a
 * real interface. The script runs `main` when it already is in one (VM_TEST_NETNS), re-executes itself in a
 * new one as root, and says it skipped otherwise. The name vmt<pid> is one scripts/netns-gc.sh knows.
 */
import { execFileSync, spawn } from 'node:child_process';

function rerunIn(ns: string, self: string): Promise<number> {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, VM_TEST_NETNS: ns },
  });
  return new Promise((r) => child.once('exit', (code) => r(code ?? 1)));
}

export async function inOwnNamespace(name: string, self: string, main: () => Promise<void>): Promise<void> {
  if (process.env.VM_TEST_NETNS) {
    await main();
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${name}: needs root to create its network namespace; skipped\n`);
    return;
  }
  const ns = `vmt${process.pid}`;
  const code = await rerunIn(ns, self).finally(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  });
  process.exit(code);
}
