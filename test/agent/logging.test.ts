/**
 * Logs stay useful under a flood: one JSON object per line whatever the network sends, nothing per packet at
 * the default level, and repeated problems summarised with a count.
 */
import dgram from 'node:dgram';
import { afterAll, describe, expect, test } from 'vitest';
import { createLogger, RateLimitedLog } from '../../src/agent/logger.js';
import { encodeAnnouncement } from '../../src/discovery/codec.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent } from './in-process.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  return { lines, logger };
}

/** Every write is exactly one line of JSON without raw control characters. */
function expectSingleLineJson(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => {
    expect(l.endsWith('\n')).toBe(true);
    const body = l.slice(0, -1);
    const controls = [...body].filter((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f');
    expect(controls).toEqual([]);
    return JSON.parse(body) as Record<string, unknown>;
  });
}

describe('rate-limited log', () => {
  test('a burst of one kind gives one line, then one summary with the count', () => {
    const { lines, logger } = capture();
    let now = 0;
    const rl = new RateLimitedLog(logger, { intervalMs: 10_000, now: () => now });
    for (let i = 0; i < 100; i++) rl.log('warn', 'send:ENETUNREACH', { code: 'ENETUNREACH' }, 'send failed');
    rl.log('warn', 'send:EMSGSIZE', { code: 'EMSGSIZE' }, 'send failed');
    expect(lines).toHaveLength(2);
    now = 10_001;
    rl.flush();
    const parsed = expectSingleLineJson(lines);
    expect(parsed).toHaveLength(3);
    expect(parsed[2]).toMatchObject({
      code: 'ENETUNREACH',
      repeated: 99,
      msg: 'send failed (repeated 99 more times)',
    });
    // A new window logs the next occurrence again.
    rl.log('warn', 'send:ENETUNREACH', { code: 'ENETUNREACH' }, 'send failed');
    expect(lines).toHaveLength(4);
    rl.close();
  });

  test('levels below the logger level cost nothing and log nothing', () => {
    const { lines, logger } = capture('info');
    const rl = new RateLimitedLog(logger);
    for (let i = 0; i < 10; i++) rl.log('debug', `drop:${i}`, {}, 'datagram dropped');
    rl.close();
    expect(lines).toEqual([]);
  });

  test('the key table is bounded', () => {
    const { lines, logger } = capture();
    const rl = new RateLimitedLog(logger, { maxKeys: 8, now: () => 0 });
    for (let i = 0; i < 1000; i++) rl.log('warn', `k${i}`, {}, 'x');
    expect(lines).toHaveLength(1000);
    rl.close();
  });

  test('hostile strings stay on one line', () => {
    const { lines, logger } = capture();
    const hostile = [
      'a\nb',
      'c\r\nd',
      '\u001b[31mred\u001b[0m',
      'nul\u0000',
      'lone \ud800 surrogate',
      '<script>x</script>',
      '\u2028',
    ];
    for (const h of hostile) logger.warn({ service_name: h, err: h }, h);
    const parsed = expectSingleLineJson(lines);
    // Controls are shown visibly (a terminal reading the log through `jq -r` must not obey them).
    const shown = [
      'a\u240ab',
      'c\u240d\u240ad',
      '\u241b[31mred\u241b[0m',
      'nul\u2400',
      'lone \ud800 surrogate',
      '<script>x</script>',
      '\u2028',
    ];
    expect(parsed.map((p) => p.service_name)).toEqual(shown);
    expect(parsed.map((p) => p.msg)).toEqual(shown);
  });
});

describe.skipIf(!IN_TEST_NETNS)('agent logs under a flood', () => {
  let t: TestAgent;
  afterAll(async () => t?.close());

  test('no line per packet at info: garbage and 300 new services give a handful of lines', async () => {
    const port = await freeUdpPort();
    const group = '224.1.1.61';
    t = await startTestAgent(
      `
http: {listen: "@HTTP@"}
listeners: [{name: flood, group: ${group}, port: ${port}, interfaces: [127.0.0.1]}]
`,
      {},
      'info',
    );
    const before = t.logs.length;
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.setMulticastInterface('127.0.0.1');
    const send = (b: Uint8Array) => new Promise<void>((r) => s.send(b, port, group, () => r()));
    for (let i = 0; i < 300; i++) await send(Buffer.from(`not json \n ${i}`));
    for (let i = 0; i < 300; i++) {
      await send(
        encodeAnnouncement({ type: 'Flood', name: `svc\n${i}\u001b[2J`, addr: `127.0.0.1:${1000 + i}` }),
      );
    }
    s.close();
    const listener = t.agent.listenerEntry('flood')?.listener;
    await waitFor(() => (listener?.stats.packetsReceived ?? 0) === 600, 'all 600 datagrams received');
    const lines = t.logs.slice(before);
    expectSingleLineJson(lines);
    expect(lines.filter((l) => l.includes('datagram dropped'))).toEqual([]);
    // At most the burst of 20 "service up" lines per interval; the rest is counted in a later summary.
    expect(lines.filter((l) => l.includes('"msg":"service up"')).length).toBe(20);
    expect(lines.length).toBeLessThanOrEqual(25);
  });
});
