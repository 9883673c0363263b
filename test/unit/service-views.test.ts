/**
 * The unpaged service list and the SSE snapshot are written in slices, so the registry can change between two
 * services: a service forgotten and learned again meanwhile moves to the end of its registry and would be
 * listed twice. Real registry, a clock moved by hand.
 */
import { describe, expect, it } from 'vitest';
import type { AgentState } from '../../src/agent/state.js';
import { eachServiceView, servicePage } from '../../src/agent/views.js';
import { decodeAnnouncement, encodeAnnouncement } from '../../src/discovery/codec.js';
import { ServiceRegistry } from '../../src/discovery/registry.js';
import { FakeClock } from '../harness/fake-clock.js';

function announce(addr: string, fields: Record<string, unknown> = {}) {
  const r = decodeAnnouncement(encodeAnnouncement({ type: 'T', name: addr, addr, ...fields }), {
    maxBytes: 1400,
  });
  if (!r.ok) throw new Error(r.detail);
  return r.announcement;
}

function stateOf(registry: ServiceRegistry): AgentState {
  const entry = { name: 'lan', config: { group: '239.18.0.1', port: 5004 }, listener: { registry } };
  return { listeners: () => [entry] } as unknown as AgentState;
}

describe('eachServiceView', () => {
  it('lists a service forgotten and learned again during the walk once', () => {
    const reg = new ServiceRegistry({ clock: new FakeClock(), retentionMs: 0 });
    for (const addr of ['a:1', 'b:1', 'c:1', 'd:1']) reg.observe(announce(addr), '10.0.0.1');
    const views = eachServiceView(stateOf(reg), {});
    const listed = [views.next().value?.addr, views.next().value?.addr];
    expect(listed).toEqual(['a:1', 'b:1']);
    // Between two slices: a:1 says goodbye and, with no retention, is forgotten; then it announces again.
    reg.observe(announce('a:1', { goodbye: true }), '10.0.0.1');
    reg.sweep();
    expect(reg.get('T\0a:1')).toBeUndefined();
    reg.observe(announce('a:1'), '10.0.0.1');
    for (const v of views) listed.push(v.addr);
    expect(listed).toEqual(['a:1', 'b:1', 'c:1', 'd:1']);
    // The registry itself does bring it round again (what the list must not show).
    expect([...reg.services()].map((r) => r.addr)).toEqual(['b:1', 'c:1', 'd:1', 'a:1']);
  });

  it('lists services learned during the walk, once each', () => {
    const reg = new ServiceRegistry({ clock: new FakeClock(), retentionMs: 0 });
    for (const addr of ['a:1', 'b:1']) reg.observe(announce(addr), '10.0.0.1');
    reg.observe(announce('b:1', { goodbye: true }), '10.0.0.1');
    const views = eachServiceView(stateOf(reg), {});
    expect(views.next().value?.addr).toBe('a:1');
    reg.sweep(); // b:1 forgotten after the walk began: from here on keys are remembered
    reg.observe(announce('c:1'), '10.0.0.1');
    reg.observe(announce('b:1'), '10.0.0.1');
    expect([...views].map((v) => v.addr)).toEqual(['c:1', 'b:1']);
    expect(servicePage(stateOf(reg), {}, 0).total).toBe(3);
  });
});
