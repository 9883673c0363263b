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
      listeners: [
        {
          name: '224.1.1.1:5004',
          group: '224.1.1.1',
          port: 5004,
          interfaces: ['127.0.0.1'],
          maxDatagramBytes: 1400,
          receiveBufferBytes: 4194304,
          serviceTimeoutMs: 30000,
          retentionMs: 600000,
          maxServices: 10000,
          typeFilter: '',
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
