/**
 * /metrics speaks what the scraper asks for: OpenMetrics to a client that prefers it (Prometheus does), the
 * text format to everyone else, gzip where accepted. Against a real agent over real HTTP, and a real
 * Prometheus, whose OpenMetrics parser fails the whole scrape on any syntax error.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startPrometheus } from '../ops/prometheus-server.js';
import { find, parseExposition, promtoolCheck } from './exposition.js';

/** The Accept header Prometheus 2.42 sends on every scrape. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  text: string;
}

/** A GET with exactly these headers (fetch would add and undo Accept-Encoding by itself). */
function scrape(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!IN_TEST_NETNS)('/metrics content negotiation', () => {
  let t: TestAgent;
  let pub: VaultMultiPublisher;

  beforeAll(async () => {
    const port = await freeUdpPort();
    t = await startTestAgent(`
http:
  listen: @HTTP@
listeners:
  - {name: lan, group: 224.1.1.41, port: ${port}, interfaces: [127.0.0.1]}
`);
    pub = new VaultMultiPublisher({
      group: '224.1.1.41',
      port,
      interfaces: '127.0.0.1',
      interval: 0.1,
      message: { type: 'VaultLibrary', name: 'say "hi"\\', addr: '127.0.0.9:8200', version: '1.2' },
      jitter: 0,
    });
    await pub.start();
    await waitFor(
      async () => (await scrape(t.url, {})).text.includes('vault_multicast_service_up{'),
      'the service in /metrics',
      15_000,
    );
  });
  afterAll(async () => {
    await pub?.stop();
    await t?.close();
  });

  it('answers the text format to a client that asks for nothing, text/plain or */*', async () => {
    for (const accept of [undefined, 'text/plain', '*/*', 'text/plain;version=0.0.4', 'application/json']) {
      const r = await scrape(t.url, accept ? { accept } : {});
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.text).not.toContain('# EOF');
      expect(r.text).toContain('# TYPE vault_multicast_received_packets_total counter\n');
      expect(promtoolCheck(r.text).status).toBe(0);
    }
  });

  it("answers OpenMetrics to Prometheus's Accept header, counters named as OpenMetrics wants", async () => {
    const r = await scrape(t.url, { accept: PROMETHEUS_ACCEPT });
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.headers.vary).toBe('Accept, Accept-Encoding');
    expect(r.text.endsWith('\n# EOF\n')).toBe(true);
    expect(r.text.indexOf('# EOF')).toBe(r.text.length - '# EOF\n'.length);
    // The family loses `_total`, its samples keep it: the series Prometheus stores are the text format's.
    expect(r.text).toContain('# TYPE vault_multicast_received_packets counter\n');
    expect(r.text).toMatch(/^vault_multicast_received_packets_total\{listener="lan",/m);
    expect(r.text).toContain('# TYPE process_cpu_user_seconds counter\n');
    expect(r.text).not.toMatch(/^# TYPE \S+_total /m);
    // HELP escapes double quotes in OpenMetrics (the receive-errors help quotes "callback").
    expect(r.text).toContain('or \\"callback\\")');
    let om = parseExposition(r.text);
    let text = parseExposition((await scrape(t.url, {})).text);
    const names = (e: typeof om) => [...new Set(e.samples.map((s) => s.name))].sort();
    // prom-client adds nodejs_gc_duration_seconds after the first GC, so a GC between the two scrapes adds
    // series to the second. Series only ever appear: a later pair of scrapes agrees.
    for (let i = 0; i < 5 && names(om).join() !== names(text).join(); i++) {
      om = parseExposition((await scrape(t.url, { accept: PROMETHEUS_ACCEPT })).text);
      text = parseExposition((await scrape(t.url, {})).text);
    }
    expect(names(om)).toEqual(names(text));
    expect(find(om, 'vault_multicast_service_info')[0]?.labels.service_name).toBe('say "hi"\\');
  });

  it('prefers text when the client weighs it higher, and OpenMetrics when only that is asked', async () => {
    const text = await scrape(t.url, { accept: 'application/openmetrics-text;q=0.3,text/plain' });
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    const om = await scrape(t.url, { accept: 'application/openmetrics-text' });
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text/);
  });

  it('gzips the body for a client that accepts gzip, and only then', async () => {
    const zipped = await scrape(t.url, { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(zipped.raw.length).toBeLessThan(Buffer.byteLength(zipped.text) / 3);
    expect(promtoolCheck(zipped.text).status).toBe(0);
    expect(zipped.text).toContain('vault_multicast_service_up{');
    for (const encoding of ['identity', 'gzip;q=0', 'br']) {
      const plain = await scrape(t.url, { 'accept-encoding': encoding });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.raw.subarray(0, 2)).not.toEqual(Buffer.from([0x1f, 0x8b]));
    }
  });

  it('answers HEAD with the negotiated headers and no body', async () => {
    const r = await new Promise<{ headers: Record<string, unknown>; length: number }>((resolve, reject) => {
      const req = request(
        `${t.url}/metrics`,
        { method: 'HEAD', headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' } },
        (res) => {
          let length = 0;
          res.on('data', (c: Buffer) => {
            length += c.length;
          });
          res.on('end', () => resolve({ headers: res.headers, length }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(r.headers['content-type']).toMatch(/^application\/openmetrics-text/);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.length).toBe(0);
  });

  it('is scraped by a real Prometheus in OpenMetrics with gzip, every series stored as in the text format', async () => {
    const target = new URL(t.url).host;
    const prom = await startPrometheus({
      config: {
        global: { scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [{ job_name: 'agent', static_configs: [{ targets: [target] }] }],
      },
    });
    try {
      await waitFor(
        async () => (await prom.query('vault_multicast_service_info')).length === 1,
        'a successful scrape',
        30_000,
      );
      const got = await prom.query('vault_multicast_service_info');
      expect(got[0]?.metric.service_name).toBe('say "hi"\\');
      expect((await prom.query('vault_multicast_received_packets_total'))[0]?.metric.listener).toBe('lan');
      const targets = await fetch(`${prom.url}/api/v1/targets`).then((r) => r.json());
      const active = (targets as { data: { activeTargets: { health: string; lastError: string }[] } }).data
        .activeTargets;
      expect(active.map((a) => [a.health, a.lastError])).toEqual([['up', '']]);
    } finally {
      await prom.stop();
    }
  });
});
