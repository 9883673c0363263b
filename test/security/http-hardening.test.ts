/**
 * The HTTP port against a hostile neighbour or a hostile web page (DNS rebinding), and the small holes of
 * the second hardening round: each test failed on the code before it.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/agent/config/load.js';
import { trimTrailingNewline } from '../../src/agent/config/secrets.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { startTestAgent, type TestAgent } from '../agent/in-process.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with any Host header (fetch() will not send a foreign one). */
function raw(url: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  const u = new URL(url);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
          // An event stream never ends: its first bytes are enough.
          if (path === '/api/v1/events' && res.statusCode === 200) res.destroy();
        });
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

describe.skipIf(!IN_TEST_NETNS)('HTTP hardening', () => {
  let t: TestAgent;
  let port: number;
  const publishers: VaultMultiPublisher[] = [];

  beforeAll(async () => {
    port = await freeUdpPort();
    t = await startTestAgent(`
http: {listen: "@HTTP@", enableReload: true, enableAdmin: true, allowedHosts: [vault.example]}
sd: {allowedTargets: [198.18.0.0/15]}
listeners:
  - {name: l, group: 239.74.0.1, port: ${port}, interfaces: [127.0.0.1]}
`);
    const messages = [
      // The cloud metadata service as a scrape target.
      { type: 'x', name: 'metadata', addr: '169.254.169.254:80', metrics_port: 80 },
      // A host inside sd.allowedTargets: offered as announced.
      { type: 'x', name: 'allowed', addr: '198.18.0.5:80', metrics_port: 9100 },
      // Terminal escapes, a bell, NUL, C1 CSI and a bidi override in the name.
      { type: 'x', name: 'evil\u001b]0;owned\u0007\u0000\u009b2J\u202etxt.exe', addr: '192.0.2.1:1' },
    ];
    for (const message of messages) {
      const p = new VaultMultiPublisher({
        group: '239.74.0.1',
        port,
        interfaces: '127.0.0.1',
        interval: 0.2,
        message,
      });
      await p.start();
      publishers.push(p);
    }
    await waitFor(
      async () => t.agent.listenerEntry('l')?.listener.registry.size === 3,
      'three services',
      10_000,
    );
  });

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    await t?.close();
  });

  it('answers a foreign Host with 421 on the page, API, events and mutating endpoints, /metrics to any', async () => {
    const evil = { host: 'evil.example:9477', origin: 'http://evil.example:9477' };
    for (const path of ['/', '/api/v1/services', '/api/v1/status', '/api/v1/sd', '/api/v1/events']) {
      expect((await raw(t.url, path, { headers: evil })).status, path).toBe(421);
    }
    for (const path of ['/-/reload', '/api/v1/listeners/l/refresh']) {
      expect((await raw(t.url, path, { method: 'POST', headers: evil })).status, path).toBe(421);
    }
    expect((await raw(t.url, '/metrics', { headers: evil })).status).toBe(200);
    expect((await raw(t.url, '/-/ready', { headers: evil })).status).toBe(200);
    // Names of this agent: the listen address, localhost, loopback literals, http.allowedHosts.
    const { host } = new URL(t.url);
    for (const name of [
      host,
      `localhost:${new URL(t.url).port}`,
      '[::1]:9477',
      '127.0.0.2',
      'vault.example',
    ]) {
      expect((await raw(t.url, '/api/v1/services', { headers: { host: name } })).status, name).toBe(200);
    }
    const metrics = (await raw(t.url, '/metrics')).body;
    expect(metric(metrics, 'vault_multicast_http_rejected_total', 'reason="bad_host"')).toBe(7);
  });

  it('answers 431 to oversized headers and 405 with Allow to other methods on static paths', async () => {
    const big = await new Promise<string>((resolve) => {
      const u = new URL(t.url);
      const c = connect(Number(u.port), u.hostname, () =>
        c.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      );
      let text = '';
      c.on('data', (d) => {
        text += d;
      });
      c.on('close', () => resolve(text));
      c.on('error', () => resolve(text));
    });
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await raw(t.url, '/', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('offers SD targets at the sender address or an allowed host, never link-local or loopback', async () => {
    const sd = JSON.parse((await raw(t.url, '/api/v1/sd')).body) as { targets: string[] }[];
    expect(sd.flatMap((g) => g.targets)).toEqual(['198.18.0.5:9100']);
    const metrics = (await raw(t.url, '/metrics')).body;
    expect(metric(metrics, 'vault_multicast_sd_targets_withheld')).toBe(1);
  });

  it('shows control characters of announced names visibly in /metrics; the JSON API keeps them exact', async () => {
    const text = (await raw(t.url, '/metrics')).body;
    // No C0 control but newline, no C1 control, no bidi control reaches a terminal running `curl | grep`.
    const controls = [...text].filter((ch) => {
      const c = ch.codePointAt(0) ?? 0;
      return (
        (c < 0x20 && c !== 0x0a) ||
        (c >= 0x7f && c <= 0x9f) ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069)
      );
    });
    expect(controls).toEqual([]);
    expect(text).toContain('service_name="evil\u241b]0;owned\u2407\u2400<U+009B>2J<U+202E>txt.exe"');
    const api = JSON.parse((await raw(t.url, '/api/v1/services')).body) as { services: { name: string }[] };
    expect(api.services.map((s) => s.name)).toContain('evil\u001b]0;owned\u0007\u0000\u009b2J\u202etxt.exe');
  });
});

describe.skipIf(!IN_TEST_NETNS)('HTTP limits on reload', () => {
  it('a reload that lowers http.maxConnections applies it to the running server', async () => {
    const port = await freeUdpPort();
    const yaml = (max: number) => `
http: {listen: "@HTTP@", maxConnections: ${max}}
listeners:
  - {name: l, group: 239.74.0.2, port: ${port}, interfaces: [127.0.0.1]}
`;
    const t = await startTestAgent(yaml(512));
    const held: ReturnType<typeof connect>[] = [];
    try {
      await t.writeConfig(yaml(8));
      expect(await t.agent.requestReload()).toEqual({ ok: true });
      const u = new URL(t.url);
      // Idle connections count against the cap like busy ones.
      for (let i = 0; i < 12; i++) {
        const c = connect(Number(u.port), u.hostname);
        c.on('error', () => undefined);
        held.push(c);
        await new Promise((r) => c.once('connect', r));
      }
      await waitFor(() => (t.agent.httpRejected.connection_limit ?? 0) >= 4, 'connections past 8 dropped');
    } finally {
      for (const c of held) c.destroy();
      await t.close();
    }
  });
});

describe('configuration bounds', () => {
  const base = (extra: string) => `${extra}listeners: [{group: 224.1.1.1, port: 5004}]\n`;

  it('refuses a timer duration Node would turn into 1 ms, naming the key, line and limit', async () => {
    const text = `publishers:\n  - group: 224.1.1.1\n    port: 5004\n    interval: 3000000\nmetrics:\n  otlp: {endpoint: "http://127.0.0.1:4318/v1/metrics", interval: 3000000}\n`;
    await expect(parseConfig(text, 'd.yaml', {})).rejects.toThrow(
      /d\.yaml:4:15: publishers\[0\]\.interval: must be at most 24d \(it drives a timer\), got 3000000/,
    );
    await expect(parseConfig(text, 'd.yaml', {})).rejects.toThrow(
      /d\.yaml:6:\d+: metrics\.otlp\.interval: must be at most 24d/,
    );
    await expect(
      parseConfig(base('publishers: [{group: 224.1.1.1, port: 5004, interval: 24d}]\n'), 'ok.yaml', {}),
    ).resolves.toBeDefined();
  });

  it('warns about a secret file other users can read, and not about 0600 or 0440', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vm-perm-'));
    try {
      const cfg =
        'http:\n  enableReload: true\n  auth: {tokenFile: token}\nlisteners: [{group: 224.1.1.1, port: 5004}]\n';
      await writeFile(join(dir, 'token'), 'secret-token\n');
      for (const [mode, warned] of [
        [0o644, true],
        [0o600, false],
        [0o440, false],
        [0o606, true],
      ] as const) {
        await chmod(join(dir, 'token'), mode);
        const config = await parseConfig(cfg, join(dir, 'agent.yaml'), {});
        expect(config.http.auth?.token).toBe('secret-token');
        const warnings = config.warnings ?? [];
        if (warned)
          expect(warnings.join('\n'), mode.toString(8)).toContain(
            `http.auth.tokenFile: ${join(dir, 'token')} is readable or writable by other users`,
          );
        else expect(warnings, mode.toString(8)).toEqual([]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trims exactly one trailing newline from a secret, as documented', () => {
    expect(trimTrailingNewline(Buffer.from('key\n')).toString()).toBe('key');
    expect(trimTrailingNewline(Buffer.from('key\r\n')).toString()).toBe('key');
    expect(trimTrailingNewline(Buffer.from('key\n\n')).toString()).toBe('key\n');
    // A raw key whose last random byte happens to be CR keeps it.
    expect(trimTrailingNewline(Buffer.from('key\r')).toString()).toBe('key\r');
  });
});
