/**
 * GET /api/v1/services in pages, for agents that carry many services: a client walks every service once with
 * limit and nextOffset, filters apply before paging, and bad paging parameters get a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultMultiPublisher } from '../../src/discovery/publisher.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { startTestAgent, type TestAgent } from './in-process.js';

interface Page {
  services: { name: string; type: string }[];
  total?: number;
  nextOffset?: number;
}

describe.skipIf(!IN_TEST_NETNS)('paged /api/v1/services', () => {
  let t: TestAgent;
  const pubs: VaultMultiPublisher[] = [];
  const get = async (query: string) => {
    const r = await fetch(`${t.url}/api/v1/services${query}`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: (await r.json()) as Page & { error?: string } };
  };

  beforeAll(async () => {
    const port = await freeUdpPort();
    t = await startTestAgent(`
http:
  listen: @HTTP@
listeners:
  - {name: lan, group: 224.1.1.43, port: ${port}, interfaces: [127.0.0.1]}
`);
    for (let i = 0; i < 7; i++) {
      const p = new VaultMultiPublisher({
        group: '224.1.1.43',
        port,
        interfaces: '127.0.0.1',
        interval: 0.2,
        message: { type: i < 5 ? 'Vault' : 'Other', name: `s${i}`, addr: `127.0.0.${i + 2}:8200` },
        jitter: 0,
      });
      pubs.push(p);
      await p.start();
    }
    await waitFor(async () => (await get('')).body.services.length === 7, 'seven services', 15_000);
  });
  afterAll(async () => {
    for (const p of pubs) await p.stop();
    await t?.close();
  });

  it('walks every service exactly once, page by page', async () => {
    const seen: string[] = [];
    let offset: number | undefined = 0;
    let pages = 0;
    while (offset !== undefined) {
      const { status, body } = await get(`?limit=3&offset=${offset}`);
      expect(status).toBe(200);
      expect(body.total).toBe(7);
      expect(body.services.length).toBeLessThanOrEqual(3);
      seen.push(...body.services.map((s) => s.name));
      offset = body.nextOffset;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
  });

  it('filters before paging and keeps the unpaged answer as it was', async () => {
    const { body } = await get('?type=Other&limit=1');
    expect(body.total).toBe(2);
    expect(body.services.map((s) => s.type)).toEqual(['Other']);
    expect(body.nextOffset).toBe(1);
    const last = await get('?type=Other&limit=1&offset=1');
    expect(last.body.nextOffset).toBeUndefined();
    const all = await get('');
    expect(all.body.total).toBeUndefined();
    expect(all.body.services).toHaveLength(7);
  });

  it('refuses a limit or offset that is not a small non-negative integer', async () => {
    for (const q of [
      '?limit=0',
      '?limit=10001',
      '?limit=abc',
      '?limit=-1',
      '?limit=5&offset=-2',
      '?limit=5&offset=x',
    ]) {
      const { status, body } = await get(q);
      expect(status, q).toBe(400);
      expect(body.error).toMatch(/limit|offset/);
    }
  });
});
