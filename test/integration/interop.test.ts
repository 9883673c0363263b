/**
 * Wire compatibility with the Python original both ways, over a LAN: its publisher's datagrams (including the
 * `addr` tuple shape real applications send, and the lenient shapes its widget lists) reach our listener and
 * the agent, and its listener takes ours without errors. test/interop/original.py reproduces the original's
 * sockets and receive loop.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent } from '../agent/spawn-agent.js';
import { ORIGINAL_SIX } from '../fixtures/datagrams/lenient.js';
import { createLan, IN_TEST_NETNS, type Lan, NETNS_AVAILABLE, waitFor } from '../harness/netns.js';
import { find, parseExposition } from '../metrics/exposition.js';
import { Probe } from './helpers/probe.js';

const interop = (name: string) => fileURLToPath(new URL(`../interop/${name}`, import.meta.url));

describe.skipIf(!NETNS_AVAILABLE)('interop with the Python original', () => {
  let lan: Lan;
  beforeAll(async () => {
    // The test process joins the LAN (inside the test namespace only) to scrape an agent on host b.
    lan = await createLan({ hosts: 2, attachSelf: IN_TEST_NETNS });
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

  it.skipIf(!IN_TEST_NETNS)(
    "the issue's six original publishers: the original listener reports them all with errors 0, and the agent shows all six up with zero drops, zero errors and no age for the static timestamp",
    async () => {
      const [a, b] = lan.hosts;
      if (!a || !b) throw new Error('hosts missing');
      const group = '224.1.1.1';
      const port = 5006;
      const agent = await spawnAgent(
        { listeners: [{ name: 'lan', group, port, interfaces: ['lan0'] }] },
        { host: b },
      );
      const original = b.run(
        'python3',
        [
          interop('original_listener.py'),
          '--group',
          group,
          '--port',
          String(port),
          '--count',
          '0',
          '--seconds',
          '8',
        ],
        { timeoutMs: 20_000 },
      );
      // Each publisher sends its message verbatim (json.dumps of the fixture), as the original's publisher does.
      const pubs = ORIGINAL_SIX.map((f) =>
        a.spawn('python3', [
          interop('original_publisher.py'),
          '--group',
          group,
          '--port',
          String(port),
          '--message',
          JSON.stringify(f.message),
          '--initial-delay',
          '0.3',
          '--interval',
          '0.5',
          '--count',
          '30',
        ]),
      );
      try {
        const scrape = async () => parseExposition((await agent.fetch('/metrics')).body);
        const lanLabels = { listener: 'lan' };
        await waitFor(
          async () =>
            find(await scrape(), 'vault_multicast_service_up', lanLabels).filter((s) => s.value === 1)
              .length === 6,
          'six services up in the agent',
          15_000,
        );
        // Let each publisher announce a few more times: a static timestamp must stay without an age series.
        await new Promise((r) => setTimeout(r, 2_000));
        const exp = await scrape();
        const up = find(exp, 'vault_multicast_service_up', lanLabels);
        expect(up.map((s) => s.labels.address).sort()).toEqual(ORIGINAL_SIX.map((f) => f.expect.addr).sort());
        expect(up.every((s) => s.value === 1)).toBe(true);
        expect(new Set(up.map((s) => s.labels.service_name))).toEqual(
          new Set(ORIGINAL_SIX.map((f) => f.expect.name)),
        );
        const received = find(exp, 'vault_multicast_received_packets_total', lanLabels)[0]?.value ?? 0;
        expect(received).toBeGreaterThanOrEqual(18);
        expect(find(exp, 'vault_multicast_accepted_packets_total', lanLabels)[0]?.value).toBe(received);
        const drops = find(exp, 'vault_multicast_dropped_packets_total', lanLabels);
        expect(drops.length).toBeGreaterThan(0);
        expect(drops.filter((s) => s.value !== 0)).toEqual([]);
        expect(
          find(exp, 'vault_multicast_receive_errors_total', lanLabels).filter((s) => s.value !== 0),
        ).toEqual([]);
        expect(find(exp, 'vault_multicast_service_announcement_age_seconds', lanLabels)).toEqual([]);
        // The ISO timestamp and the string ttl are ignored fields, counted apart from errors.
        const ignored = (field: string) =>
          find(exp, 'vault_multicast_ignored_fields_total', { ...lanLabels, field })[0]?.value ?? 0;
        expect(ignored('timestamp')).toBeGreaterThan(0);
        expect(ignored('ttl')).toBeGreaterThan(0);
        const services = JSON.parse((await agent.fetch('/api/v1/services')).body) as unknown;
        expect(JSON.stringify(services)).toContain('http://127.0.0.1:8301');

        const result = await original;
        const lines = result.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const summary = lines.at(-1)?.summary as Record<string, number>;
        expect(summary, result.stderr).toMatchObject({ errors: 0, active_services: 6 });
        expect(summary.delivered).toBe(summary.packets_received);
        const delivered = new Set(lines.filter((l) => 'message' in l).map((l) => JSON.stringify(l.message)));
        expect(delivered).toEqual(new Set(ORIGINAL_SIX.map((f) => JSON.stringify(f.message))));
      } finally {
        for (const p of pubs) p.kill('SIGKILL');
        await agent.stop();
      }
    },
    60_000,
  );
});
