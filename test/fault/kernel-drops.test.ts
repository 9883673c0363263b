import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelDropCounter, procLocalAddress, readUdpSockets } from '../../src/discovery/net/proc-udp.js';

const LINUX = existsSync('/proc/net/udp');
const open: Socket[] = [];

function bind(address: string): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 2048 });
  open.push(s);
  s.on('message', () => {});
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

/**
 * Sends `count` datagrams to 127.0.0.1:port from another process while this one is blocked inside
 * execFileSync, so nothing reads them and the tiny receive buffer overflows.
 */
function burst(port: number, count: number): void {
  execFileSync('python3', [
    '-c',
    `import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(${count}): s.sendto(b"x"*1000, ("127.0.0.1", ${port}))`,
  ]);
}

const settle = () => new Promise((r) => setTimeout(r, 50));

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('proc-udp: kernel receive-buffer drops', () => {
  it('writes local addresses as the kernel does', () => {
    const v4 = procLocalAddress({ address: '224.1.1.1', port: 5004 });
    const v6 = procLocalAddress({ address: 'ff02::1%lan0', port: 5004 });
    if (process.arch === 'x64' || process.arch === 'arm64') {
      expect(v4).toEqual({ table: 'udp', text: '010101E0:138C' });
      expect(v6).toEqual({ table: 'udp6', text: '000002FF000000000000000001000000:138C' });
    }
    expect(procLocalAddress({ address: 'nonsense', port: 1 })).toBeUndefined();
  });

  it.skipIf(!LINUX)(
    'counts the drops of an overflowed socket, and only of this process’s sockets on that endpoint',
    async () => {
      const s = await bind('127.0.0.1');
      const port = s.address().port;
      const counter = new KernelDropCounter('127.0.0.1', port);
      expect(await counter.read()).toBe(0);
      burst(port, 2_000);
      await settle();
      const after = await counter.read();
      expect(after).toBeGreaterThan(1_000);
      // Another endpoint (same address, other port) sees none of them.
      const other = await bind('127.0.0.1');
      expect(await new KernelDropCounter('127.0.0.1', other.address().port).read()).toBe(0);
      // The table lists the socket with its inode; with an ownership set that lacks it, it is not counted.
      const all = await readUdpSockets([{ address: '127.0.0.1', port }]);
      expect(all).toHaveLength(1);
      expect(await readUdpSockets([{ address: '127.0.0.1', port }], { owned: new Set([1]) })).toEqual([]);
    },
  );

  it.skipIf(!LINUX)('keeps a lifetime total that never goes down when the socket is re-created', async () => {
    const first = await bind('127.0.0.1');
    const port = first.address().port;
    const counter = new KernelDropCounter('127.0.0.1', port);
    burst(port, 1_500);
    await settle();
    const before = (await counter.read()) ?? 0;
    expect(before).toBeGreaterThan(0);
    await new Promise<void>((r) => first.close(() => r()));
    open.splice(open.indexOf(first), 1);
    // Closed: the counter keeps what it saw.
    expect(await counter.read()).toBe(before);
    const second = createSocket({ type: 'udp4', recvBufferSize: 2048 });
    open.push(second);
    second.on('message', () => {});
    await new Promise<void>((r) => second.bind(port, '127.0.0.1', () => r()));
    burst(port, 1_500);
    await settle();
    expect(await counter.read()).toBeGreaterThan(before);
  });

  it.skipIf(!LINUX)('finds IPv6 sockets in /proc/net/udp6', async () => {
    const s6 = createSocket({ type: 'udp6' });
    open.push(s6);
    await new Promise<void>((r) => s6.bind(0, '::1', () => r()));
    const found = await readUdpSockets([{ address: '::1', port: s6.address().port }]);
    expect(found).toHaveLength(1);
    expect(found[0]?.drops).toBe(0);
  });

  it.skipIf(!LINUX)('says undefined when no socket of this process is bound there', async () => {
    expect(await new KernelDropCounter('224.9.9.9', 9).read()).toBeUndefined();
  });
});
