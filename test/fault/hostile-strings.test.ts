/**
 * Hostile strings sent over the wire to a running agent: quotes, backslashes, newlines, ANSI escapes, NUL,
 * lone surrogates (as JSON escapes, the only way they survive UTF-8), `<script>`, prototype names. /metrics
 * stays a valid exposition (promtool), the JSON API stays valid JSON, and every log line stays one JSON line.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedAgent, spawnAgent } from '../agent/spawn-agent.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { promtoolCheck } from '../metrics/exposition.js';

const GROUP = '239.67.0.1';
/** JSON texts of names, written with the escapes an attacker would use. */
const HOSTILE_JSON_STRINGS = [
  '"quote \\" and backslash \\\\ and brace } and ="',
  '"new\\nline\\r\\nand tab\\t"',
  '"\\u001b[31mred\\u001b[0m\\u001b]0;title\\u0007"',
  '"nul \\u0000 byte"',
  '"lone \\ud800 high and \\udfff low surrogates"',
  '"<script>alert(1)</script><img src=x onerror=alert(2)>"',
  '"__proto__"',
  '"constructor"',
  '"# HELP vault_multicast_fake fake\\nvault_multicast_fake 1"',
  '"\\u2028line separator\\u2029paragraph"',
];

let agent: SpawnedAgent;
let port: number;
let tx: Socket;

describe.skipIf(!IN_TEST_NETNS)('hostile strings reaching the agent', () => {
  beforeAll(async () => {
    port = await freeUdpPort();
    agent = await spawnAgent({
      log: { level: 'debug' },
      listeners: [{ name: 'hostile', group: GROUP, port, interfaces: ['127.0.0.1'] }],
    });
    tx = createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    tx.setMulticastInterface('127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((r) => (tx ? tx.close(() => r()) : r()));
    await agent?.stop();
  });

  it('keeps /metrics valid, the API valid JSON and the logs one line per record', async () => {
    let i = 0;
    for (const s of HOSTILE_JSON_STRINGS) {
      i++;
      const datagrams = [
        `{"type":${s},"name":${s},"addr":"198.18.5.${i}:${1000 + i}","version":${s}}`,
        `{"type":"hostile","name":${s},"addr":"198.18.6.${i}:${2000 + i}","extra":{"k":${s}}}`,
      ];
      for (const d of datagrams) await new Promise<void>((r) => tx.send(d, port, GROUP, () => r()));
    }
    // And raw bytes that are not UTF-8 at all.
    await new Promise<void>((r) =>
      tx.send(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0x1b, 0x00, 0x0a, 0x7d]), port, GROUP, () => r()),
    );
    const expected = HOSTILE_JSON_STRINGS.length * 2 + 1;
    let metrics = '';
    await waitFor(
      async () => {
        metrics = (await agent.fetch('/metrics')).body;
        const m = /^vault_multicast_received_packets_total\{[^}]*\} (\d+)$/m.exec(metrics);
        return Number(m?.[1]) >= expected;
      },
      'the agent to receive every hostile datagram',
      10_000,
    );
    const check = promtoolCheck(metrics);
    // promtool parses the whole exposition and finds nothing: no parse error, no lint finding.
    expect(check.output.trim()).toBe('');
    expect(check.status).toBe(0);
    // Nothing injected a line of its own.
    expect(metrics).not.toMatch(/^vault_multicast_fake/m);
    expect(metrics).toContain('<script>alert(1)</script>');

    const api = await agent.fetch('/api/v1/services');
    expect(api.status).toBe(200);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    const parsed = JSON.parse(api.body) as unknown;
    expect(JSON.stringify(parsed)).toContain('alert(1)');

    const lines = agent
      .logs()
      .split('\n')
      .filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      // One JSON object per line, nothing raw that a terminal would interpret.
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(
        [...line].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
        line,
      ).toBe(false);
    }
  });
});
