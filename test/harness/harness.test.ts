import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type Lan, NETNS_AVAILABLE } from './netns.js';

describe.skipIf(!NETNS_AVAILABLE)('test LAN harness', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan({ hosts: 2, ipv6: true });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('connects hosts over the bridge and cuts them apart when a link goes down', async () => {
    const [a, b] = lan.hosts;
    const ok = await a!.run('ping', ['-c', '1', '-W', '1', b!.ipv4]);
    expect(ok.code).toBe(0);
    await b!.setLinkUp(false);
    const cut = await a!.run('ping', ['-c', '1', '-W', '1', b!.ipv4]);
    expect(cut.code).not.toBe(0);
    await b!.setLinkUp(true);
  });

  it('gives each host only loopback and its LAN interface', async () => {
    const out = await lan.hosts[0]!.run('ip', ['-o', 'link', 'show']);
    const names = out.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[1]!.trim().split('@')[0]);
    expect(names.sort()).toEqual(['lan0', 'lo']);
  });
});
