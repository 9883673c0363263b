/**
 * Interfaces change under a running process (veth re-created by a container runtime, DHCP renumbering, cable
 * out and in). Listener and publisher must resume on their own — no restart — via the reconcile loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MembershipStatus } from '../../src/discovery/types.js';
import { createLan, type Host, type Lan, NETNS_AVAILABLE, sh, waitFor } from '../harness/netns.js';
import { Probe, type ProbeEvent } from './helpers/probe.js';

/** The bridge namespace of a harness LAN, from a host's namespace name (vmh<tag>x<i> → vmb<tag>). */
function bridgeOf(host: Host): string {
  const m = /^vmh(.+)x\d+$/.exec(host.ns);
  if (!m) throw new Error(`unexpected namespace name ${host.ns}`);
  return `vmb${m[1]}`;
}

/** Deletes the host's lan0 (both veth ends) and plugs in a new one with `address`. */
async function recreateLan0(host: Host, address: string, tag: string): Promise<void> {
  await sh('ip', ['-n', host.ns, 'link', 'del', 'lan0']);
  await new Promise((r) => setTimeout(r, 800));
  const bridge = bridgeOf(host);
  const tmp = `vr${tag}`;
  const peer = `pr${tag}`;
  await sh('ip', [
    'link',
    'add',
    tmp,
    'netns',
    host.ns,
    'type',
    'veth',
    'peer',
    'name',
    peer,
    'netns',
    bridge,
  ]);
  await sh('ip', ['-n', host.ns, 'link', 'set', tmp, 'name', 'lan0']);
  await sh('ip', ['-n', bridge, 'link', 'set', peer, 'master', 'br0', 'up']);
  await sh('ip', ['-n', host.ns, 'addr', 'add', `${address}/24`, 'dev', 'lan0']);
  await sh('ip', ['-n', host.ns, 'link', 'set', 'lan0', 'up']);
  await sh('ip', ['-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lan0']);
}

const isMessageFrom = (source: string) => (e: ProbeEvent) => e.event === 'message' && e.source === source;

describe.skipIf(!NETNS_AVAILABLE)('interface changes under a running listener and publisher', () => {
  let lan: Lan;
  beforeAll(async () => {
    lan = await createLan({ hosts: 2 });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('resumes receiving and sending after lan0 is deleted, re-created, then renumbered', async () => {
    const [a, b] = lan.hosts;
    if (!a || !b) throw new Error('hosts missing');
    const group = '239.9.9.9';
    const port = 5030;
    const common = { group, port, interfaces: 'lan0', reconcileInterval: 200 };
    // b both listens and publishes; it is the host whose interface changes.
    const onA = Probe.listen(a, common);
    const onB = Probe.listen(b, common);
    await onA.started();
    await onB.started();
    const pubA = Probe.publish(a, {
      ...common,
      interval: 0.1,
      message: { type: 'ic', name: 'a', addr: `${a.ipv4}:1` },
    });
    const pubB = Probe.publish(b, {
      ...common,
      interval: 0.1,
      message: { type: 'ic', name: 'b', addr: `${b.ipv4}:1` },
    });
    await pubA.started();
    await pubB.started();
    await onB.waitFor(isMessageFrom(a.ipv4), 'b hears a');
    await onA.waitFor(isMessageFrom(b.ipv4), 'a hears b');

    await recreateLan0(b, b.ipv4, '1');
    let mark = onB.events.length;
    await onB.waitFor(isMessageFrom(a.ipv4), 'b hears a again after lan0 was re-created', 10_000, mark);
    mark = onA.events.length;
    await onA.waitFor(isMessageFrom(b.ipv4), 'a hears b again after lan0 was re-created', 10_000, mark);

    const renumbered = `${lan.prefix}77`;
    // Delete first: removing a primary address also removes the secondaries of its subnet.
    await sh('ip', ['-n', b.ns, 'addr', 'del', `${b.ipv4}/24`, 'dev', 'lan0']);
    await sh('ip', ['-n', b.ns, 'addr', 'add', `${renumbered}/24`, 'dev', 'lan0']);
    await sh('ip', ['-n', b.ns, 'route', 'replace', '224.0.0.0/4', 'dev', 'lan0']);
    mark = onA.events.length;
    await onA.waitFor(isMessageFrom(renumbered), 'a hears b from its new address', 10_000, mark);
    mark = onB.events.length;
    await onB.waitFor(isMessageFrom(a.ipv4), 'b still hears a after renumbering', 10_000, mark);
    // Receiving resumes as soon as the kernel routes again; the status follows at the next reconcile pass.
    const renumberedMembership = async () => {
      const [m, ...rest] = (await onB.request('memberships')).memberships as MembershipStatus[];
      return rest.length === 0 && m?.interface === 'lan0' && m.address === renumbered && m.joined === true;
    };
    await waitFor(renumberedMembership, 'b reports its membership on lan0 at the new address', 10_000);

    // a's cable out and back in (b's bridge port was replaced above): both directions must come back.
    await a.setLinkUp(false);
    await new Promise((r) => setTimeout(r, 500));
    await a.setLinkUp(true);
    mark = onB.events.length;
    await onB.waitFor(isMessageFrom(a.ipv4), 'b hears a after the link came back', 10_000, mark);
    mark = onA.events.length;
    await onA.waitFor(isMessageFrom(renumbered), 'a hears b after the link came back', 10_000, mark);
    // Nothing crashed: every probe is still running.
    for (const p of [onA, onB, pubA, pubB]) expect(p.child.exitCode).toBeNull();
    for (const p of [pubA, pubB, onA, onB]) await p.stop();
  });

  it('IPv6 ff02: the listener re-binds to the re-created lan0 (new interface index) and hears again', async () => {
    const v6 = await createLan({ hosts: 2, ipv6: true });
    try {
      const [a, b] = v6.hosts;
      if (!a || !b) throw new Error('hosts missing');
      const common = { group: 'ff02::9:9', port: 5031, interfaces: 'lan0', reconcileInterval: 200 };
      const onB = Probe.listen(b, common);
      expect((await onB.started()).event).toBe('started');
      const pubA = Probe.publish(a, {
        ...common,
        interval: 0.1,
        message: { type: 'ic6', addr: `[${a.ipv6}]:1` },
      });
      await pubA.started();
      const first = await onB.waitFor((e) => e.event === 'message', 'b hears a over ff02');
      await recreateLan0(b, b.ipv4, '6');
      const mark = onB.events.length;
      const again = await onB.waitFor(
        (e) => e.event === 'message',
        'b hears a over ff02 after lan0 was re-created',
        10_000,
        mark,
      );
      expect(again.source).toBe(first.source);
      for (const p of [pubA, onB]) await p.stop();
    } finally {
      await v6.destroy();
    }
  });
});
