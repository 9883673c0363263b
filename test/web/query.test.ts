import { describe, expect, it } from 'vitest';
import type { ServiceView, StatusView } from '../../src/agent/api-types.js';
import { OrderedServices } from '../../src/web/ordered.js';
import { DEFAULT_QUERY, naturalCompare, type Query, visibleEntries } from '../../src/web/query.js';
import { type ServiceEntry, Store, serviceId } from '../../src/web/store.js';
import { webUrl } from '../../src/web/web-url.js';

function view(over: Partial<ServiceView>): ServiceView {
  return {
    listener: 'l1',
    key: `${over.type ?? 't'}\u0000${over.addr ?? '10.0.0.1:1'}`,
    type: 't',
    name: 'n',
    addr: '10.0.0.1:1',
    version: null,
    state: 'up',
    source: '10.0.0.1',
    firstSeen: 1000,
    lastSeen: 1000,
    expiresIn: 30,
    ttl: 30,
    age: null,
    lost: 0,
    packets: 1,
    metricsPort: null,
    data: {},
    ...over,
  };
}

const STATUS: StatusView = {
  version: 'test',
  startedAt: 0,
  ready: true,
  admin: 'open',
  reload: { enabled: false, lastSuccess: true, lastSuccessAt: 0 },
  listeners: [],
  publishers: [],
  embedOrigins: [],
};

function entries(views: ServiceView[]): ServiceEntry[] {
  const store = new Store(() => 0);
  store.applySnapshot({ status: STATUS, services: views });
  return [...store.services.values()];
}

const names = (list: ServiceEntry[]) => list.map((e) => e.view.name);
const q = (over: Partial<Query>): Query => ({ ...DEFAULT_QUERY, ...over });

describe('which services the table shows', () => {
  const all = entries([
    view({ type: 'VaultServer', name: 'vault-a', addr: '10.0.0.1:8200', data: { region: 'eu-west' } }),
    view({ type: 'http', name: 'api', addr: '10.0.0.2:80', lastSeen: 1005 }),
    view({ type: 'vault', name: 'old', addr: '10.0.0.3:8200', state: 'gone' }),
    view({ type: 'db', name: 'pg', addr: '10.0.0.4:5432', state: 'stale', listener: 'l2' }),
  ]);

  it('matches the type filter as a substring of the type, case as typed (the original)', () => {
    expect(names(visibleEntries(all, q({ typeFilter: 'Vault' })))).toEqual(['vault-a']);
    expect(names(visibleEntries(all, q({ typeFilter: 'ault', showDeparted: true })))).toEqual([
      'old',
      'vault-a',
    ]);
  });

  it('hides departed services unless asked, keeps stale ones, and narrows to one listener', () => {
    // Sorted by type by default: db, http, VaultServer.
    expect(names(visibleEntries(all, q({})))).toEqual(['pg', 'api', 'vault-a']);
    expect(names(visibleEntries(all, q({ showDeparted: true }))).sort()).toEqual([
      'api',
      'old',
      'pg',
      'vault-a',
    ]);
    expect(names(visibleEntries(all, q({ listener: 'l2' })))).toEqual(['pg']);
  });

  it('searches every field and the announcement itself, all terms, any case', () => {
    expect(names(visibleEntries(all, q({ search: 'EU-west' })))).toEqual(['vault-a']);
    expect(names(visibleEntries(all, q({ search: '8200 vault' })))).toEqual(['vault-a']);
    expect(names(visibleEntries(all, q({ search: 'nothing-like-this' })))).toEqual([]);
  });

  it('sorts by the chosen column in either direction', () => {
    expect(names(visibleEntries(all, q({ sortKey: 'name' })))).toEqual(['api', 'pg', 'vault-a']);
    expect(names(visibleEntries(all, q({ sortKey: 'name', sortDirection: 'descending' })))).toEqual([
      'vault-a',
      'pg',
      'api',
    ]);
    expect(names(visibleEntries(all, q({ sortKey: 'state' })))).toEqual(['api', 'vault-a', 'pg']);
    expect(names(visibleEntries(all, q({ sortKey: 'lastSeen' })))[0]).toBe('api');
  });
});

describe('the table list and the summary counts kept up to date incrementally', () => {
  it('after bursts of added, changed, departed and removed services, equal a full filter, sort and count', () => {
    const store = new Store(() => 0);
    const svc = (i: number, over: Partial<ServiceView> = {}) =>
      view({ type: `svc-${i % 7}`, name: `node-${i}`, addr: `10.0.${i >> 8}.${i & 255}:1`, ...over });
    store.applySnapshot({ status: STATUS, services: Array.from({ length: 500 }, (_, i) => svc(i)) });
    const ordered = new OrderedServices();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (const query of [q({ sortKey: 'name' }), q({ typeFilter: 'svc-3', sortKey: 'lastSeen' }), q({})]) {
      for (let round = 0; round < 20; round++) {
        for (let k = 0; k < 10; k++) {
          const i = random(700);
          const roll = random(4);
          if (roll === 0) store.applyService({ event: 'removed', service: svc(i) });
          else
            store.applyService({
              event: roll === 1 ? 'up' : 'update',
              service: svc(i, { lastSeen: 1000 + random(100), state: roll === 3 ? 'gone' : 'up' }),
            });
        }
        // The summary's counts, kept as services come and go, agree with a count of the store.
        const counted = { up: 0, stale: 0, gone: 0 };
        for (const e of store.services.values()) counted[e.view.state] += 1;
        expect(store.stateCounts('')).toEqual(counted);
        expect(store.stateCounts('l1')).toEqual(counted);
        expect(store.stateCounts('other')).toEqual({ up: 0, stale: 0, gone: 0 });
        const incremental = ordered.update(store.services, store.takeChanges(), query);
        expect(incremental.map((e) => e.id)).toEqual(
          visibleEntries(store.services.values(), query).map((e) => e.id),
        );
      }
    }
    // A snapshot says everything changed: the list is rebuilt from it alone.
    store.applySnapshot({ status: STATUS, services: [svc(1)] });
    expect(names([...ordered.update(store.services, store.takeChanges(), q({}))])).toEqual(['node-1']);
  });
});

describe('natural order', () => {
  it('orders digit runs by value, ignoring leading zeros, and text by code point', () => {
    const sorted = ['node-10', 'node-9', 'node-010b', 'node-2', 'node', 'node-10a', 'a', ''].sort(
      naturalCompare,
    );
    expect(sorted).toEqual(['', 'a', 'node', 'node-2', 'node-9', 'node-10', 'node-10a', 'node-010b']);
    expect(naturalCompare('10.0.0.9:80', '10.0.0.10:80')).toBeLessThan(0);
    expect(naturalCompare('x1', 'x1')).toBe(0);
  });
});

describe('the page store', () => {
  it('lets a snapshot replace everything, so a reconnect forgets services the agent forgot', () => {
    const store = new Store(() => 0);
    const a = view({ name: 'a', addr: '10.0.0.1:1' });
    store.applySnapshot({ status: STATUS, services: [a, view({ name: 'b', addr: '10.0.0.2:1' })] });
    store.applySnapshot({ status: STATUS, services: [a] });
    expect([...store.services.keys()]).toEqual([serviceId(a)]);
    store.applyService({ event: 'removed', service: a });
    expect(store.services.size).toBe(0);
  });

  it('computes the sparkline rate from counter deltas over a short window and survives a reset', () => {
    const store = new Store(() => 0);
    const listener = (packets: number) => ({
      name: 'l1',
      group: '224.1.1.1',
      port: 5004,
      interfaces: null,
      running: true,
      memberships: [],
      receiveBufferBytes: null,
      metrics: {
        packets_sent: 0,
        packets_received: packets,
        bytes_sent: 0,
        bytes_received: 0,
        errors: 0,
        active_services: 0,
        uptime_seconds: 1,
        packets_per_second: 0,
        dropped: {},
      },
    });
    store.applyMetrics({ at: 100, listeners: [listener(10)], publishers: [] });
    store.applyMetrics({ at: 101, listeners: [listener(15)], publishers: [] });
    store.applyMetrics({ at: 103, listeners: [listener(25)], publishers: [] });
    store.applyMetrics({ at: 104, listeners: [listener(2)], publishers: [] });
    // Averaged over up to 4 s; the reset at 104 s counts the 2 packets after it, not -23.
    expect(store.rates('listener', 'l1')).toEqual([5, 5, 17 / 4]);
  });

  it('draws a steady line, not a saw, for a publisher that announces every 2 s', () => {
    const store = new Store(() => 0);
    const publisher = (packets: number) => ({
      name: 'p',
      group: '224.1.1.1',
      port: 5004,
      interfaces: null,
      running: true,
      intervalSeconds: 2,
      metrics: {
        packets_sent: packets,
        packets_received: 0,
        bytes_sent: 0,
        bytes_received: 0,
        errors: 0,
        active_services: 0,
        uptime_seconds: 1,
        packets_per_second: 0,
        dropped: {},
      },
    });
    for (let s = 0; s < 12; s++)
      store.applyMetrics({ at: 1000 + s, listeners: [], publishers: [publisher(Math.floor(s / 2))] });
    const steady = store.rates('publisher', 'p').slice(4);
    expect(steady.every((r) => r >= 0.4 && r <= 0.6)).toBe(true);
  });
});

describe('Connect', () => {
  it('opens web services and never builds a URL from an address that could smuggle anything in', () => {
    expect(webUrl(view({ type: 'http-api', addr: '10.0.0.5:8080' }))).toBe('http://10.0.0.5:8080/');
    expect(webUrl(view({ type: 'x', addr: '[2001:db8::5]:3000', data: { scheme: 'https' } }))).toBe(
      'https://[2001:db8::5]:3000/',
    );
    expect(webUrl(view({ type: 'postgres', addr: '10.0.0.9:5432' }))).toBeUndefined();
    expect(webUrl(view({ type: 'http', addr: 'evil.example/@10.0.0.1:80' }))).toBeUndefined();
    expect(webUrl(view({ type: 'http', addr: 'javascript:alert(1)//:80' }))).toBeUndefined();
    expect(webUrl(view({ type: 'http', addr: '10.0.0.1' }))).toBeUndefined();
  });
});
