/**
 * Wire compatibility with the Python original both ways, over a LAN: its publisher's datagrams (including the
 * `addr` tuple shape real applications send) reach our listener, and its listener takes ours without errors.
 * test/interop/original.py reproduces the original's sockets and receive loop.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type Lan, NETNS_AVAILABLE } from '../harness/netns.js';
import { Probe } from './helpers/probe.js';

const interop = (name: string) => fileURLToPath(new URL(`../interop/${name}`, import.meta.url));

describe.skipIf(!NETNS_AVAILABLE)('interop with the Python original', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan({ hosts: 2 });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('our listener receives the original publisher, every addr shape, extra keys kept', async () => {
    const [a, b] = lan.hosts;
    if (!a || !b) throw new Error('hosts missing');
    const listener = Probe.listen(b, { group: '224.1.1.1', port: 5004, interfaces: 'lan0' });
    expect((await listener.started()).event).toBe('started');
    const shapes = [
      { type: 'vault', name: 'tuple', addr: [a.ipv4, 8200], enc_key: 'k1' },
      {
        type: 'vault',
        name: 'string',
        addr: `${a.ipv4}:8201`,
        version: '2.1.0',
        timestamp: Date.now() / 1000,
      },
      { type: 'demo', ip: ['127.0.0.1'], port: '2004' },
    ];
    const pubs = shapes.map((m) =>
      a.spawn('python3', [
        interop('original_publisher.py'),
        '--message',
        JSON.stringify(m),
        '--initial-delay',
        '0.1',
        '--interval',
        '0.2',
        '--count',
        '20',
      ]),
    );
    try {
      const want = [`${a.ipv4}:8200`, `${a.ipv4}:8201`, '127.0.0.1:2004'];
      for (const addr of want)
        await listener.waitFor((e) => e.event === 'up' && e.addr === addr, `service ${addr} up`);
      const tuple = await listener.waitFor(
        (e) => e.event === 'message' && (e.data as { name?: string }).name === 'tuple',
        'the tuple-shaped announcement as a message',
      );
      expect(tuple.data).toEqual(shapes[0]);
      expect(tuple.source).toBe(a.ipv4);
      const metrics = (await listener.request('metrics')).metrics as {
        errors: number;
        active_services: number;
      };
      expect(metrics.errors).toBe(0);
      expect(metrics.active_services).toBe(3);
    } finally {
      for (const p of pubs) p.kill('SIGKILL');
      await listener.stop();
    }
  });

  it("the original listener receives our publisher's announcements without an error", async () => {
    const [a, b] = lan.hosts;
    if (!a || !b) throw new Error('hosts missing');
    const run = b.run(
      'python3',
      [
        interop('original_listener.py'),
        '--group',
        '224.1.1.1',
        '--port',
        '5005',
        '--count',
        '3',
        '--seconds',
        '10',
      ],
      {
        timeoutMs: 15_000,
      },
    );
    // Give the Python listener a moment to join before the first announcement.
    await new Promise((r) => setTimeout(r, 500));
    const message = { type: 'vault', name: 'ts', addr: `${a.ipv4}:8200`, version: '1.0.0' };
    const publisher = Probe.publish(a, {
      group: '224.1.1.1',
      port: 5005,
      interfaces: 'lan0',
      interval: 0.2,
      message,
    });
    await publisher.started();
    const result = await run;
    await publisher.stop();
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const received = lines.filter((l) => 'message' in l);
    expect(received.length, result.stderr).toBeGreaterThanOrEqual(3);
    expect(received[0]?.message).toMatchObject(message);
    expect(received[0]?.from).toEqual([a.ipv4, expect.any(Number)]);
    expect(lines.at(-1)).toEqual({ summary: { packets_received: 3, errors: 0, delivered: 3 } });
    expect(result.code).toBe(0);
  });
});
