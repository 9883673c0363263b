import { describe, expect, it } from 'vitest';
import { diffConfig } from '../../src/agent/config/diff.js';
import { parseConfig } from '../../src/agent/config/load.js';
import type { AgentConfig } from '../../src/agent/config/types.js';

const BASE = `
listeners:
  - {name: a, group: 224.1.1.1, port: 5004}
  - {name: b, group: 224.1.1.2, port: 5004}
publishers:
  - {name: p, group: 224.1.1.1, port: 5004, message: {type: T, name: one}}
  - {name: q, group: 224.1.1.2, port: 5004, message: hello}
`;

const load = (text: string): Promise<AgentConfig> => parseConfig(text, 'diff.yaml', {});

describe('diffConfig', () => {
  it('finds nothing to do between equal configs', async () => {
    const d = diffConfig(await load(BASE), await load(BASE));
    expect(d.empty).toBe(true);
    expect(d.listeners).toEqual({ unchanged: ['a', 'b'], removed: [], added: [], changed: [] });
    expect(d.publishers).toEqual({
      unchanged: ['p', 'q'],
      removed: [],
      added: [],
      changed: [],
      messageOnly: [],
    });
    expect([d.http, d.log, d.metrics, d.security]).toEqual([false, false, false, false]);
  });

  it('matches by name: removed, added, and a changed listener only as changed (reconfigured in place)', async () => {
    const next = BASE.replace(
      '{name: b, group: 224.1.1.2, port: 5004}',
      '{name: c, group: 224.1.1.3, port: 5004}',
    ).replace('{name: a, group: 224.1.1.1, port: 5004}', '{name: a, group: 224.1.1.1, port: 5005}');
    const d = diffConfig(await load(BASE), await load(next));
    expect(d.listeners).toEqual({ unchanged: [], removed: ['b'], added: ['c'], changed: ['a'] });
    expect(d.empty).toBe(false);
  });

  it('keeps a listener whose config is equal even if its position moved', async () => {
    const [la, lb] = [
      '  - {name: a, group: 224.1.1.1, port: 5004}',
      '  - {name: b, group: 224.1.1.2, port: 5004}',
    ];
    const swapped = BASE.replace(`${la}\n${lb}`, `${lb}\n${la}`);
    expect(swapped).not.toBe(BASE);
    expect(diffConfig(await load(BASE), await load(swapped)).listeners.unchanged).toEqual(['a', 'b']);
  });

  it('updates a publisher in place when only its message changed', async () => {
    const next = BASE.replace('name: one', 'name: two').replace('message: hello', 'message: bye');
    const d = diffConfig(await load(BASE), await load(next));
    expect(d.publishers).toEqual({
      unchanged: [],
      removed: [],
      added: [],
      changed: [],
      messageOnly: ['p', 'q'],
    });
    expect(d.empty).toBe(false);
  });

  it('restarts a publisher when the message and anything else changed', async () => {
    const next = BASE.replace('message: {type: T, name: one}', 'interval: 5s, message: {type: T, name: two}');
    const d = diffConfig(await load(BASE), await load(next));
    expect(d.publishers).toMatchObject({ removed: ['p'], added: ['p'], changed: ['p'], messageOnly: [] });
  });

  it('reconfigures every listener and restarts no publisher when security changes', async () => {
    const next = `security: {allowSources: [10.0.0.0/8]}\n${BASE.replace('name: one', 'name: two')}`;
    const d = diffConfig(await load(BASE), await load(next));
    expect(d.security).toBe(true);
    expect(d.listeners).toEqual({ unchanged: [], removed: [], added: [], changed: ['a', 'b'] });
    // The signer is swapped in place; only p's message changed.
    expect(d.publishers).toEqual({
      unchanged: ['q'],
      removed: [],
      added: [],
      changed: [],
      messageOnly: ['p'],
    });
    expect(d.empty).toBe(false);
  });

  it('reports http, log and metrics changes as flags without touching sockets', async () => {
    const next = `http: {listen: "127.0.0.1:9999"}\nlog: {level: debug}\nmetrics: {processMetrics: false}\n${BASE}`;
    const d = diffConfig(await load(BASE), await load(next));
    expect([d.http, d.log, d.metrics, d.security]).toEqual([true, true, true, false]);
    expect(d.listeners.unchanged).toEqual(['a', 'b']);
    expect(d.publishers.unchanged).toEqual(['p', 'q']);
  });

  it('sees a rotated secret file as an http or security change', async () => {
    const prev = await load(BASE);
    const next = await load(BASE);
    next.http.auth = { token: 'new', basic: undefined };
    expect(diffConfig(prev, next).http).toBe(true);
    const withKey = (key: string): AgentConfig => ({
      ...prev,
      security: {
        ...prev.security,
        signing: { ...prev.security.signing, keys: [{ id: 'k', file: 'f', key: Buffer.from(key) }] },
      },
    });
    expect(diffConfig(withKey('a'.repeat(32)), withKey('a'.repeat(32))).security).toBe(false);
    expect(diffConfig(withKey('a'.repeat(32)), withKey('b'.repeat(32))).security).toBe(true);
  });
});
