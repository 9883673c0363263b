/**
 * The agent's HTTP surface against a real agent (real sockets in the test namespace): read endpoints and their
 * filters, security headers, 404/405, and every refusal of the mutating endpoints (disabled, cross-site,
 * credentials, body type and size, rate limit).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/agent/http/security-headers.js';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent } from './in-process.js';

const TOKEN = 'token-0123456789abcdef0123456789abcdef';
const PASSWORD = 'correct horse battery staple';

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

async function get(url: string, init: RequestInit = {}) {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json: json as Record<string, unknown> & unknown[] };
}

describe.skipIf(!IN_TEST_NETNS)('agent HTTP API', () => {
  let t: TestAgent;
  let port: number;
  const pubs: VaultMultiPublisher[] = [];

  beforeAll(async () => {
    port = await freeUdpPort();
    t = await startTestAgent(
      `
http:
  listen: @HTTP@
  enableAdmin: true
  enableReload: false
  mutatingRateLimitPerMinute: 1000
  auth:
    tokenFile: token
    basic: {username: ops, passwordFile: password}
sd:
  allowedTargets: [127.0.0.0/8]
listeners:
  - {name: alpha, group: 224.1.1.21, port: ${port}, interfaces: [127.0.0.1]}
  - {name: beta, group: 224.1.1.22, port: ${port}, interfaces: [127.0.0.1], serviceTimeout: 300ms, retention: 1h}
`,
      { token: `${TOKEN}\n`, password: `${PASSWORD}\n` },
    );
    const announce = (group: string, message: Record<string, unknown>, goodbye = true) => {
      const p = new VaultMultiPublisher({
        group,
        port,
        interfaces: '127.0.0.1',
        interval: 0.1,
        message,
        jitter: 0,
        goodbye,
      });
      pubs.push(p);
      return p.start();
    };
    await announce('224.1.1.21', {
      type: 'VaultLibrary',
      name: 'lib-a',
      addr: '127.0.0.1:8200',
      metrics_port: 9100,
      version: '1.2.3',
    });
    await announce('224.1.1.21', { type: 'VaultAgent', name: 'agent-a', addr: '127.0.0.1:8201' });
    await announce('224.1.1.21', { type: 'Hostile', name: 'h', addr: 'a<b>:80', metrics_port: 9101 });
    await announce(
      '224.1.1.22',
      { type: 'VaultLibrary', name: 'lib-b', addr: '127.0.0.2:8300', metrics_port: 9102 },
      false,
    );
    await waitFor(async () => {
      const r = await get(`${t.url}/api/v1/services`);
      return (r.json.services as unknown[]).length === 4;
    }, 'four services');
    // The beta publisher goes silent without a goodbye: its service turns stale after 300 ms.
    await pubs[3]?.stop(0);
  });

  afterAll(async () => {
    for (const p of pubs) await p.stop(0);
    await t?.close();
  });

  test('security headers on every response, no x-powered-by', async () => {
    for (const path of ['/-/healthy', '/metrics', '/api/v1/status', '/nope', '/']) {
      const r = await get(t.url + path);
      expect(r.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(r.headers.get('x-powered-by'), path).toBeNull();
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });

  test('health, readiness and metrics', async () => {
    expect((await get(`${t.url}/-/healthy`)).status).toBe(200);
    expect((await get(`${t.url}/-/ready`)).status).toBe(200);
    const m = await get(`${t.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toMatch(
      /^vault_multicast_received_packets_total\{listener="alpha",group="224\.1\.1\.21",port="\d+"\} [1-9]/m,
    );
  });

  test('unknown routes give a JSON 404, wrong methods 405 with Allow', async () => {
    const nf = await get(`${t.url}/api/v1/nothing`);
    expect(nf.status).toBe(404);
    expect(nf.json).toEqual({ error: 'not found' });
    const del = await get(`${t.url}/metrics`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    const getReload = await get(`${t.url}/-/reload`);
    expect(getReload.status).toBe(405);
    expect(getReload.headers.get('allow')).toBe('POST');
    const getReset = await get(`${t.url}/api/v1/listeners/alpha/reset-metrics`);
    expect(getReset.status).toBe(405);
    const head = await fetch(`${t.url}/api/v1/status`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  test('services: filters by type substring, state and listener', async () => {
    const all = (await get(`${t.url}/api/v1/services`)).json.services as { name: string }[];
    expect(all.map((s) => s.name).sort()).toEqual(['agent-a', 'h', 'lib-a', 'lib-b']);
    const lib = (await get(`${t.url}/api/v1/services?type=Library`)).json.services as { name: string }[];
    expect(lib.map((s) => s.name).sort()).toEqual(['lib-a', 'lib-b']);
    const beta = (await get(`${t.url}/api/v1/services?listener=beta`)).json.services as { name: string }[];
    expect(beta.map((s) => s.name)).toEqual(['lib-b']);
    await waitFor(async () => {
      const stale = (await get(`${t.url}/api/v1/services?state=stale`)).json.services as { name: string }[];
      return stale.length === 1 && stale[0]?.name === 'lib-b';
    }, 'lib-b stale');
    const up = (await get(`${t.url}/api/v1/services?state=up&type=Library`)).json.services as {
      name: string;
    }[];
    expect(up.map((s) => s.name)).toEqual(['lib-a']);
    const bad = await get(`${t.url}/api/v1/services?state=sleeping`);
    expect(bad.status).toBe(400);
  });

  test('sd: up services announcing metrics_port, at an allowed host or the sender address, never the others', async () => {
    const sd = (await get(`${t.url}/api/v1/sd`)).json as unknown as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(sd).toEqual([
      {
        targets: ['127.0.0.1:9100'],
        labels: {
          __meta_vault_multicast_service_type: 'VaultLibrary',
          __meta_vault_multicast_service_name: 'lib-a',
          __meta_vault_multicast_listener: 'alpha',
          __meta_vault_multicast_address: '127.0.0.1:8200',
          __meta_vault_multicast_version: '1.2.3',
        },
      },
      // 'a<b>' names no host: the target is the address the announcement came from.
      {
        targets: ['127.0.0.1:9101'],
        labels: {
          __meta_vault_multicast_service_type: 'Hostile',
          __meta_vault_multicast_service_name: 'h',
          __meta_vault_multicast_listener: 'alpha',
          __meta_vault_multicast_address: 'a<b>:80',
          __meta_vault_multicast_version: '',
        },
      },
    ]);
  });

  test('status reports listeners, memberships and the admin mode', async () => {
    const s = (await get(`${t.url}/api/v1/status`)).json as Record<string, unknown>;
    expect(s.ready).toBe(true);
    expect(s.admin).toBe('token+basic');
    expect((s.reload as { enabled: boolean }).enabled).toBe(false);
    const listeners = s.listeners as { name: string; running: boolean; memberships: { joined: boolean }[] }[];
    expect(listeners.map((l) => l.name)).toEqual(['alpha', 'beta']);
    expect(listeners.every((l) => l.running && l.memberships.some((m) => m.joined))).toBe(true);
  });

  const reset = (init: RequestInit = {}, name = 'alpha') =>
    get(`${t.url}/api/v1/listeners/${name}/reset-metrics`, { method: 'POST', ...init });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  test('reload is refused with 403 while disabled', async () => {
    const r = await get(`${t.url}/-/reload`, { method: 'POST', headers: bearer });
    expect(r.status).toBe(403);
    expect(String(r.json.error)).toContain('http.enableReload');
  });

  test('credentials: none, a wrong token, wrong basic auth are refused with a challenge', async () => {
    const none = await reset();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const fromPage = await reset({ headers: { 'x-requested-with': 'vault-multicast-page' } });
    expect(fromPage.status).toBe(401);
    expect(fromPage.headers.get('www-authenticate')).toBeNull();
    expect((await reset({ headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await reset({ headers: { authorization: 'Bearer ' } })).status).toBe(401);
    expect((await reset({ headers: { authorization: basic('ops', 'wrong') } })).status).toBe(401);
    expect((await reset({ headers: { authorization: basic('root', PASSWORD) } })).status).toBe(401);
    expect((await reset({ headers: { authorization: 'Basic !!!' } })).status).toBe(401);
    expect((await reset({ headers: { authorization: `Token ${TOKEN}` } })).status).toBe(401);
    expect((await reset({ headers: { authorization: basic('ops', PASSWORD) } })).status).toBe(200);
    expect((await reset({ headers: bearer })).status).toBe(200);
  });

  test('cross-site requests are refused even with credentials', async () => {
    const host = new URL(t.url).host;
    expect((await reset({ headers: { ...bearer, origin: 'http://evil.example' } })).status).toBe(403);
    expect((await reset({ headers: { ...bearer, origin: 'null' } })).status).toBe(403);
    expect((await reset({ headers: { ...bearer, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect(
      (await reset({ headers: { ...bearer, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' } }))
        .status,
    ).toBe(200);
  });

  test('bodies: empty or small JSON only', async () => {
    const json = { ...bearer, 'content-type': 'application/json' };
    expect((await reset({ headers: json, body: '{}' })).status).toBe(200);
    expect((await reset({ headers: json, body: JSON.stringify({ pad: 'x'.repeat(2000) }) })).status).toBe(
      413,
    );
    expect((await reset({ headers: json, body: '{not json' })).status).toBe(400);
    expect((await reset({ headers: { ...bearer, 'content-type': 'text/plain' }, body: '{}' })).status).toBe(
      415,
    );
    expect(
      (
        await reset({
          headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=1',
        })
      ).status,
    ).toBe(415);
    // Chunked, so no Content-Length announces the size up front.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(`"${'y'.repeat(500)}"`));
        c.close();
      },
    });
    const chunked = await get(`${t.url}/api/v1/listeners/alpha/reset-metrics`, {
      method: 'POST',
      headers: json,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  test('reset-metrics zeroes the listener view; refresh clears its services; unknown listener 404', async () => {
    const lifetime = () => t.agent.listenerEntry('alpha')?.listener.stats.packetsReceived ?? 0;
    const before = lifetime();
    expect(before).toBeGreaterThan(0);
    expect((await reset({ headers: bearer })).status).toBe(200);
    const s = (await get(`${t.url}/api/v1/status`)).json as unknown as {
      listeners: { name: string; metrics: { packets_received: number } }[];
    };
    const shown = s.listeners.find((l) => l.name === 'alpha')?.metrics.packets_received ?? -1;
    const metrics = (await get(`${t.url}/metrics`)).text;
    const exported = Number(
      /^vault_multicast_received_packets_total\{listener="alpha",[^}]*\} (\d+)/m.exec(metrics)?.[1],
    );
    // The view counts only what arrived after the reset; the exported counter is lifetime and never goes back.
    expect(shown).toBeGreaterThanOrEqual(0);
    expect(shown).toBeLessThanOrEqual(exported - before);
    expect(exported).toBeGreaterThanOrEqual(before);
    expect((await reset({ headers: bearer }, 'nope')).status).toBe(404);
    const refresh = await get(`${t.url}/api/v1/listeners/beta/refresh`, { method: 'POST', headers: bearer });
    expect(refresh.status).toBe(200);
    const beta = (await get(`${t.url}/api/v1/services?listener=beta`)).json.services as unknown[];
    expect(beta).toEqual([]);
  });

  test('event stream: retry hint and snapshot first, then service events', async () => {
    const ac = new AbortController();
    const r = await fetch(`${t.url}/api/v1/events`, { signal: ac.signal });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body?.getReader();
    if (!reader) throw new Error('no body');
    let text = '';
    const p = new VaultMultiPublisher({
      group: '224.1.1.21',
      port,
      interfaces: '127.0.0.1',
      interval: 0.1,
      jitter: 0,
      message: { type: 'Late', name: 'late', addr: '127.0.0.1:9999' },
    });
    try {
      const first = await reader.read();
      text += new TextDecoder().decode(first.value);
      await waitFor(async () => {
        const chunk = await reader.read();
        text += new TextDecoder().decode(chunk.value);
        return text.includes('event: snapshot');
      }, 'snapshot');
      expect(text.startsWith('retry: ')).toBe(true);
      await p.start();
      await waitFor(async () => {
        const chunk = await reader.read();
        text += new TextDecoder().decode(chunk.value);
        return /event: service\ndata: \{"event":"up","service":\{[^\n]*"name":"late"/.test(text);
      }, 'service up event');
    } finally {
      await p.stop(0);
      ac.abort();
    }
  });
});

describe.skipIf(!IN_TEST_NETNS)('mutating endpoints rate limit', () => {
  let t: TestAgent;
  beforeAll(async () => {
    const port = await freeUdpPort();
    t = await startTestAgent(`
http: {listen: @HTTP@, enableAdmin: true, mutatingRateLimitPerMinute: 3}
listeners: [{name: only, group: 224.1.1.23, port: ${port}, interfaces: [127.0.0.1]}]
`);
  });
  afterAll(async () => t?.close());

  test('the fourth request within a minute gets 429 with Retry-After; reads are not limited', async () => {
    const post = () => get(`${t.url}/api/v1/listeners/only/refresh`, { method: 'POST' });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await get(`${t.url}/api/v1/status`)).status).toBe(200);
    expect((await get(`${t.url}/api/v1/status`)).json.admin).toBe('open');
  });
});

describe.skipIf(!IN_TEST_NETNS)('TLS', () => {
  let t: TestAgent;
  let cert: string;
  /** A fresh self-signed pair for 127.0.0.1, valid for a day. */
  const selfSigned = async (): Promise<{ cert: string; key: string }> => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'vm-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const pair = {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
    rmSync(dir, { recursive: true, force: true });
    return pair;
  };
  beforeAll(async () => {
    const pair = await selfSigned();
    cert = pair.cert;
    const key = pair.key;
    const port = await freeUdpPort();
    t = await startTestAgent(
      `
http: {listen: "@HTTP@", tls: {certFile: cert.pem, keyFile: key.pem}}
listeners: [{name: l, group: 224.1.1.24, port: ${port}, interfaces: [127.0.0.1]}]
`,
      { 'cert.pem': cert, 'key.pem': key },
    );
  });
  afterAll(async () => t?.close());

  const httpsGet = async (url: string, ca = cert) => {
    const https = await import('node:https');
    return new Promise<{ status: number; body: string; csp: string | undefined }>((resolve, reject) => {
      https
        .get(url, { ca, timeout: 5000, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body,
              csp: res.headers['content-security-policy'] as string,
            }),
          );
        })
        .on('error', reject);
    });
  };

  test('the whole server speaks HTTPS with the configured certificate', async () => {
    const url = t.url.replace('http://', 'https://');
    const ready = await httpsGet(`${url}/-/ready`);
    expect(ready.status).toBe(200);
    expect(ready.csp).toBe(CONTENT_SECURITY_POLICY);
    expect((await httpsGet(`${url}/metrics`)).body).toContain('vault_multicast_build_info');
    // Plain HTTP on the TLS port gets no API answer.
    const plain = await fetch(`${t.url}/-/ready`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });

  test('a renewed certificate is served after a reload, on the same address', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const url = t.url.replace('http://', 'https://');
    const renewed = await selfSigned();
    await writeFile(join(t.dir, 'cert.pem'), renewed.cert, { mode: 0o600 });
    await writeFile(join(t.dir, 'key.pem'), renewed.key, { mode: 0o600 });
    expect(await t.agent.requestReload()).toEqual({ ok: true });
    expect((await httpsGet(`${url}/-/ready`, renewed.cert)).status).toBe(200);
    // The old certificate is no longer what new handshakes get.
    await expect(httpsGet(`${url}/-/ready`, cert)).rejects.toThrow();
    cert = renewed.cert;
  });
});

describe.skipIf(!IN_TEST_NETNS)('event stream throttling', () => {
  let t: TestAgent;
  let port: number;
  beforeAll(async () => {
    port = await freeUdpPort();
    t = await startTestAgent(`
http: {listen: "@HTTP@"}
listeners: [{name: l, group: 224.1.1.25, port: ${port}, interfaces: [127.0.0.1]}]
`);
  });
  afterAll(async () => t?.close());

  test('a service announcing 50 times a second yields at most one update event per 500 ms', async () => {
    const ac = new AbortController();
    const r = await fetch(`${t.url}/api/v1/events`, { signal: ac.signal });
    const reader = r.body?.getReader();
    if (!reader) throw new Error('no body');
    const p = new VaultMultiPublisher({
      group: '224.1.1.25',
      port,
      interfaces: '127.0.0.1',
      interval: 0.02,
      jitter: 0,
      message: { type: 'Chatty', name: 'chatty', addr: '127.0.0.1:1' },
    });
    const listener = t.agent.listenerEntry('l')?.listener;
    let text = '';
    const pump = (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (chunk.done) return;
        text += new TextDecoder().decode(chunk.value);
      }
    })();
    await p.start();
    const started = performance.now();
    await waitFor(() => (listener?.stats.packetsReceived ?? 0) >= 60, '60 announcements', 15_000);
    const elapsed = performance.now() - started;
    await p.stop(0);
    ac.abort();
    await pump;
    const updates = text.split('\n').filter((l) => l.startsWith('data: {"event":"update"')).length;
    expect(listener?.stats.packetsReceived ?? 0).toBeGreaterThanOrEqual(60);
    expect(updates).toBeGreaterThanOrEqual(1);
    // The trailing update of the last window may land after `elapsed` was taken, hence + 2.
    expect(updates).toBeLessThanOrEqual(Math.ceil(elapsed / 500) + 2);
    expect(text).toContain('data: {"event":"up"');
  });
});

describe.skipIf(!IN_TEST_NETNS)('landing page without a built web page', () => {
  test('/ is a plain page with links, no script, under the same CSP; /app.js is a JSON 404', async () => {
    const port = await freeUdpPort();
    const t = await startTestAgent(
      `
http: {listen: "@HTTP@"}
listeners: [{name: l, group: 224.1.1.26, port: ${port}, interfaces: [127.0.0.1]}]
`,
      {},
      'info',
      '/nonexistent/web',
    );
    try {
      const r = await get(`${t.url}/`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      for (const link of ['metrics', 'api/v1/services', 'api/v1/status', 'api/v1/sd', '-/ready']) {
        expect(r.text).toContain(`href="${link}"`);
      }
      expect(r.text).not.toContain('<script');
      expect((await get(`${t.url}/app.js`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
