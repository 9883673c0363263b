import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/agent/config/errors.js';
import { loadConfigFile, parseConfig } from '../../src/agent/config/load.js';

// The example from the agent issue, verbatim: it must keep loading as the schema grows.
const ISSUE_EXAMPLE = `http:
  listen: 127.0.0.1:9477
listeners:
  - group: 224.1.1.1
    port: 5004
    interfaces: [127.0.0.1]
publishers:
  - group: 224.1.1.1
    port: 5004
    interface: 127.0.0.1
    interval: 2s
    message: {type: VaultLibrary, name: demo, addr: "127.0.0.1:8080"}
`;

describe('the issue example', () => {
  it('loads as written with every default filled in', async () => {
    const config = await parseConfig(ISSUE_EXAMPLE, 'issue.yaml', {});
    expect(config).toEqual({
      http: {
        listen: '127.0.0.1:9477',
        tls: undefined,
        auth: undefined,
        enableReload: false,
        enableAdmin: false,
        mutatingRateLimitPerMinute: 10,
        maxConnections: 512,
        allowedHosts: [],
        embedOrigins: [],
      },
      log: { level: 'info' },
      metrics: { maxServiceSeries: 10000, processMetrics: true, otlp: undefined },
      security: {
        signing: { mode: 'off', keys: [], replayWindowMs: 30000 },
        allowSources: [],
        onLinkOnly: false,
        rateLimit: { perSource: 0, global: 0, maxSources: 4096 },
        duplicateWindowMs: 0,
      },
      sd: { allowedTargets: [] },
      warnings: [],
      listeners: [
        {
          name: '224.1.1.1:5004',
          group: '224.1.1.1',
          port: 5004,
          interfaces: ['127.0.0.1'],
          maxDatagramBytes: 1400,
          receiveBufferBytes: 4194304,
          receiveQueueDatagrams: 32768,
          serviceTimeoutMs: 30000,
          retentionMs: 600000,
          maxServices: 10000,
          maxRegistryBytes: 67108864,
          typeFilter: '',
          extensions: true,
        },
      ],
      publishers: [
        {
          name: '224.1.1.1:5004:0',
          group: '224.1.1.1',
          port: 5004,
          interfaces: ['127.0.0.1'],
          ttl: 2,
          intervalMs: 2000,
          message: { type: 'VaultLibrary', name: 'demo', addr: '127.0.0.1:8080' },
          loopback: true,
          announceTtlMs: undefined,
          sign: false,
        },
      ],
    });
  });
});

describe('config/agent.yaml', () => {
  it('loads and stays on loopback', async () => {
    const config = await loadConfigFile('config/agent.yaml', { HOSTNAME: 'node-a' });
    expect(config.http.listen).toBe('127.0.0.1:9477');
    expect(config.listeners.map((l) => l.interfaces)).toEqual([['127.0.0.1']]);
    expect(config.publishers.map((p) => p.interfaces)).toEqual([['127.0.0.1']]);
    expect(config.publishers[0]?.message).toMatchObject({ type: 'VaultAgent', name: 'node-a' });
  });
});

describe('loadConfigFile', () => {
  it('reports a missing file as a ConfigError naming it', async () => {
    const err = await loadConfigFile('test/fixtures/config/does-not-exist.yaml', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'test/fixtures/config/does-not-exist.yaml: cannot read configuration: no such file',
    );
  });
});

const SECRETS = resolve('test/fixtures/config/secrets');
// What the shipped files expect from their environment (the DaemonSet's downward API, the Secret mount).
const EXAMPLE_ENV = {
  SECRETS_DIR: SECRETS,
  POD_IP: '10.1.2.3',
  NODE_NAME: 'node-a',
  HOST_INTERFACE: 'ens5',
  HOSTNAME: 'host-a',
};

describe('every shipped configuration loads', () => {
  const files = [
    'config/agent.yaml',
    ...readdirSync('config/examples')
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `config/examples/${f}`),
  ];

  it('ships the documented examples', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'config/examples/lan.yaml',
        'config/examples/multi-group.yaml',
        'config/examples/ipv6.yaml',
        'config/examples/kubernetes-daemonset.yaml',
        'config/examples/signed.yaml',
      ]),
    );
  });

  it.each(files)('%s', async (file) => {
    const config = await loadConfigFile(file, EXAMPLE_ENV);
    expect(config.listeners.length + config.publishers.length).toBeGreaterThan(0);
  });

  it('the DaemonSet example takes node values from the environment and secrets from files', async () => {
    const config = await loadConfigFile('config/examples/kubernetes-daemonset.yaml', EXAMPLE_ENV);
    expect(config.http.listen).toBe('10.1.2.3:9477');
    expect(config.http.auth?.token).toBe('example-token-0123456789abcdef');
    expect(config.listeners[0]?.interfaces).toEqual(['ens5']);
    expect(config.publishers[0]?.interfaces).toEqual(['ens5']);
    expect(config.publishers[0]?.message).toMatchObject({ name: 'node-a', addr: '10.1.2.3:9477' });
    expect(config.security.signing.keys.map((k) => k.id)).toEqual(['cluster-2026-01']);
    expect(config.publishers[0]?.sign).toBe(true);
  });

  it('the DaemonSet example names the variable it lacks', async () => {
    const { NODE_NAME: _, ...env } = EXAMPLE_ENV;
    await expect(loadConfigFile('config/examples/kubernetes-daemonset.yaml', env)).rejects.toThrow(
      /kubernetes-daemonset\.yaml:\d+:\d+: publishers\[0\]\.message\.name: environment variable NODE_NAME is not set/,
    );
  });

  it('the signed example accepts both rotation keys and signs with the first', async () => {
    const config = await loadConfigFile('config/examples/signed.yaml', EXAMPLE_ENV);
    expect(config.security.signing.mode).toBe('required');
    expect(config.security.signing.keys.map((k) => [k.id, k.key.toString()])).toEqual([
      ['k2026-07', 'Um90YXRlZCBrZXkgZm9yIHRlc3RzIG9ubHksIGF0IGxlYXN0IDMyIGJ5dGVz'],
      ['k2026-01', 'QmFzZTY0IGtleSBmb3IgdGVzdHMgb25seSwgMzIgYnl0ZXMgb3IgbW9yZSEh'],
    ]);
  });
});

describe('secret files', () => {
  const withAuth = (auth: string) =>
    `http:\n  listen: 0.0.0.0:9477\n  enableReload: true\n  auth:\n${auth}listeners:\n  - group: 224.1.1.1\n    port: 5004\n`;

  it('reads token and basic-auth password without the trailing newline, relative to the config file', async () => {
    const text = withAuth(
      '    tokenFile: secrets/token\n    basic:\n      username: admin\n      passwordFile: secrets/password\n',
    );
    const config = await parseConfig(text, 'test/fixtures/config/inline.yaml', {});
    expect(config.http.auth).toEqual({
      token: 'example-token-0123456789abcdef',
      basic: { username: 'admin', password: 's3cret-password' },
    });
  });

  it('reads TLS certificate and key', async () => {
    const text = `http:\n  tls: {certFile: ${SECRETS}/tls.crt, keyFile: ${SECRETS}/tls.key}\nlisteners: [{group: 224.1.1.1, port: 5004}]\n`;
    const config = await parseConfig(text, 'tls.yaml', {});
    expect(config.http.tls?.cert).toContain('-----BEGIN CERTIFICATE-----');
    expect(config.http.tls?.key).toContain('PRIVATE KEY-----');
    expect(config.http.tls?.certFile).toBe(`${SECRETS}/tls.crt`);
  });

  it('reads signing keys as bytes of at least 32', async () => {
    const text = `security:\n  signing:\n    keys: [{id: a, file: ${SECRETS}/signing-2026-01}]\npublishers: [{group: 224.1.1.1, port: 5004}]\n`;
    const config = await parseConfig(text, 'k.yaml', {});
    const key = config.security.signing.keys[0]?.key;
    expect(Buffer.isBuffer(key)).toBe(true);
    expect(key?.length).toBe(60);
    // Keys exist, so publishers sign unless told not to.
    expect(config.publishers[0]?.sign).toBe(true);
  });

  it('reports every unreadable secret at once, each with its key and line', async () => {
    const text = withAuth('    tokenFile: nope-1\n    basic: {username: a, passwordFile: nope-2}\n');
    await expect(parseConfig(text, `${SECRETS}/x.yaml`, {})).rejects.toThrow(
      `${SECRETS}/x.yaml:5:16: http.auth.tokenFile: cannot read ${SECRETS}/nope-1: no such file\n` +
        `${SECRETS}/x.yaml:6:40: http.auth.basic.passwordFile: cannot read ${SECRETS}/nope-2: no such file`,
    );
  });
});

describe('shape details', () => {
  const parse = (text: string) => parseConfig(text, 'p.yaml', {});

  it('accepts interfaces as a list, a single name, or all; interface X means [X]', async () => {
    const config = await parse(
      'listeners:\n  - {group: 224.1.1.1, port: 1, interfaces: all}\n  - {group: 224.1.1.2, port: 1, interfaces: eth0}\n' +
        '  - {group: 224.1.1.3, port: 1}\npublishers:\n  - {group: 224.1.1.1, port: 1, interface: eth0}\n  - {group: 224.1.1.1, port: 1, interfaces: all}\n',
    );
    expect(config.listeners.map((l) => l.interfaces)).toEqual(['all', ['eth0'], undefined]);
    expect(config.publishers.map((p) => p.interfaces)).toEqual([['eth0'], 'all']);
    expect(config.publishers.map((p) => p.name)).toEqual(['224.1.1.1:1:0', '224.1.1.1:1:1']);
  });

  it('names IPv6 listeners [group]:port and accepts a link-scope group with one interface', async () => {
    const config = await parse('listeners:\n  - {group: "ff02::1:5004", port: 5004, interfaces: [eth0]}\n');
    expect(config.listeners[0]?.name).toBe('[ff02::1:5004]:5004');
  });

  it('converts durations to milliseconds', async () => {
    const config = await parse(
      'metrics:\n  otlp: {endpoint: "http://127.0.0.1:4318/v1/metrics", interval: 1m}\nsecurity:\n  duplicateWindow: 500ms\n' +
        'listeners:\n  - {group: 224.1.1.1, port: 1, serviceTimeout: 45, retention: 1h}\n' +
        'publishers:\n  - {group: 224.1.1.1, port: 1, interval: 1.5s, announceTtl: 1m30s}\n',
    );
    expect(config.metrics.otlp).toEqual({
      endpoint: 'http://127.0.0.1:4318/v1/metrics',
      intervalMs: 60000,
      headers: {},
      protocol: 'http/protobuf',
    });
    expect(config.security.duplicateWindowMs).toBe(500);
    expect(config.listeners[0]).toMatchObject({ serviceTimeoutMs: 45000, retentionMs: 3600000 });
    expect(config.publishers[0]).toMatchObject({ intervalMs: 1500, announceTtlMs: 90000 });
  });

  it('allows the admin endpoints without auth on loopback only', async () => {
    const text = (listen: string) =>
      `http: {listen: "${listen}", enableAdmin: true, enableReload: true}\nlisteners: [{group: 224.1.1.1, port: 1}]\n`;
    for (const listen of ['127.0.0.1:9477', '[::1]:9477', 'localhost:0']) {
      await expect(parse(text(listen))).resolves.toBeDefined();
    }
    await expect(parse(text('[::]:9477'))).rejects.toThrow(/enableAdmin on \[::\]:9477 would let anyone/);
  });

  it('resolves YAML anchors and ignores a byte-order mark', async () => {
    const config = await parse(
      '\uFEFFlisteners:\n  - &l {name: a, group: 224.1.1.1, port: 1, typeFilter: Db}\npublishers:\n  - {group: 224.1.1.1, port: 1, message: {type: Db}}\n',
    );
    expect(config.listeners[0]?.typeFilter).toBe('Db');
  });

  it('takes extensions: false for applications that use ttl, seq or timestamp themselves, and refuses a non-boolean', async () => {
    const config = await parse('listeners: [{group: 224.1.1.1, port: 1, extensions: false}]\n');
    expect(config.listeners[0]?.extensions).toBe(false);
    await expect(parse('listeners: [{group: 224.1.1.1, port: 1, extensions: "no"}]\n')).rejects.toThrow(
      /extensions/,
    );
  });
});

describe('groups', () => {
  it('rejects a zone in the group and says where the interface goes', async () => {
    await expect(
      parseConfig('listeners:\n  - {group: "ff02::1%eth0", port: 1}\n', 'z.yaml', {}),
    ).rejects.toThrow(
      'z.yaml:2:13: listeners[0].group: write the group without a %zone (ff02::1) and name the interface in interfaces',
    );
  });

  it('accepts the edges of the multicast ranges and nothing outside', async () => {
    const ok = ['224.0.0.0', '239.255.255.255', 'ff00::', 'FF05::1:3', 'ff0e::1'];
    const bad = ['223.255.255.255', '240.0.0.0', 'fe80::1', '::ffff:224.1.1.1', '00ff::1'];
    const load = (g: string) =>
      parseConfig(`listeners: [{group: "${g}", port: 1, interfaces: [eth0]}]\n`, 'g.yaml', {});
    for (const g of ok) await expect(load(g), g).resolves.toBeDefined();
    for (const g of bad) await expect(load(g), g).rejects.toThrow(/is not a multicast address/);
  });
});
