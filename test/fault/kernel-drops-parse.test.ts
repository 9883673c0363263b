/**
 * KernelDropCounter against fabricated /proc files (a temporary directory standing in for /proc/net and
 * /proc/self): malformed lines are skipped, only this process's sockets count, and the lifetime total neither
 * double-counts a socket that skips one read nor loses the drops of one that closed.
 */
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelDropCounter } from '../../src/discovery/net/proc-udp.js';

const HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
// 224.1.1.1:5004 as the kernel writes it on a little-endian host.
const LOCAL = '010101E0:138C';

function line(sl: number, local: string, inode: number, drops: number): string {
  return `${String(sl).padStart(5)}: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 ${drops}\n`;
}

let dir = '';
let procNet = '';
let procSelf = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-proc-'));
  procNet = join(dir, 'net');
  procSelf = join(dir, 'self');
  await mkdir(procNet);
  await mkdir(join(procSelf, 'fd'), { recursive: true });
  await writeFile(join(procNet, 'udp6'), HEADER);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const table = (...lines: string[]) => writeFile(join(procNet, 'udp'), HEADER + lines.join(''));
const own = (fd: number, inode: number) => symlink(`socket:[${inode}]`, join(procSelf, 'fd', String(fd)));
const disown = (fd: number) => unlink(join(procSelf, 'fd', String(fd)));

describe.skipIf(process.arch !== 'x64' && process.arch !== 'arm64')(
  'KernelDropCounter on fabricated /proc',
  () => {
    it('counts only matching sockets this process owns, skipping malformed lines', async () => {
      await own(3, 100);
      await own(4, 300);
      await table(
        line(0, LOCAL, 100, 7),
        line(1, LOCAL, 200, 1_000), // another process's socket on the same group and port
        line(2, '0100007F:138C', 300, 50), // ours, but another address
        'garbage line\n',
        `    3: ${LOCAL} 00000000:0000 07\n`, // truncated
      );
      const c = new KernelDropCounter('224.1.1.1', 5004, { procNet, procSelf });
      expect(await c.read()).toBe(7);
    });

    it('neither double-counts a socket that skips a read nor loses one that closed, and never goes down', async () => {
      await own(3, 100);
      await table(line(0, LOCAL, 100, 10));
      const c = new KernelDropCounter('224.1.1.1', 5004, { procNet, procSelf });
      expect(await c.read()).toBe(10);
      // Missing from one paged read while still open: the figure stands.
      await table();
      expect(await c.read()).toBe(10);
      await table(line(0, LOCAL, 100, 12));
      expect(await c.read()).toBe(12);
      // Closed (gone from the table and from our descriptors); a new socket takes over from zero.
      await disown(3);
      await own(5, 101);
      await table(line(0, LOCAL, 101, 0));
      expect(await c.read()).toBe(12);
      await table(line(0, LOCAL, 101, 5));
      expect(await c.read()).toBe(17);
      // The same socket listed twice in one read is counted once.
      await table(line(0, LOCAL, 101, 6), line(1, LOCAL, 101, 6));
      expect(await c.read()).toBe(18);
    });

    it('keeps the last figure when the table cannot be read, and says undefined before any socket', async () => {
      const c = new KernelDropCounter('224.1.1.1', 5004, { procNet, procSelf });
      await table();
      expect(await c.read()).toBeUndefined();
      await own(3, 100);
      await table(line(0, LOCAL, 100, 4));
      expect(await c.read()).toBe(4);
      await rm(join(procNet, 'udp'));
      expect(await c.read()).toBe(4);
    });
  },
);
