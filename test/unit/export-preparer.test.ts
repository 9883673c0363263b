/**
 * The agent's preparer of exported bytes: never inline (the receive path that emitted 'up' goes on at once),
 * never while the receive queue holds datagrams, in slices that give the event loop back, nothing after stop.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ExportPreparer } from '../../src/agent/runtime/export-preparer.js';
import type { ServiceRecord } from '../../src/discovery/types.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `T\0h:${i}` }) as ServiceRecord);

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('ExportPreparer', () => {
  it('prepares every service that came up, in order, after the turn that added them', async () => {
    const done: string[] = [];
    const preparer = new ExportPreparer(
      () => false,
      (rec) => done.push(rec.key),
    );
    for (const rec of records(3)) preparer.add(rec);
    expect(done).toEqual([]);
    await nextTurn();
    await nextTurn();
    expect(done).toEqual(['T\0h:0', 'T\0h:1', 'T\0h:2']);
    expect(preparer.pending).toBe(0);
  });

  it('waits while the receive path has datagrams waiting', async () => {
    let busy = true;
    const done: string[] = [];
    const preparer = new ExportPreparer(
      () => busy,
      (rec) => done.push(rec.key),
    );
    preparer.add(records(1)[0] as ServiceRecord);
    await sleep(20);
    expect(done).toEqual([]);
    expect(preparer.pending).toBe(1);
    busy = false;
    await sleep(20);
    expect(done).toEqual(['T\0h:0']);
  });

  it('gives the event loop back after a millisecond of work', async () => {
    let prepared = 0;
    const preparer = new ExportPreparer(
      () => false,
      () => {
        busyFor(0.05);
        prepared++;
      },
    );
    for (const rec of records(1000)) preparer.add(rec);
    let turns = 0;
    while (preparer.pending > 0 && turns < 10_000) {
      await nextTurn();
      turns++;
    }
    expect(prepared).toBe(1000);
    // 50 ms of work in slices of ~1 ms (checked every 64 services, ~3.2 ms at most here).
    expect(turns).toBeGreaterThanOrEqual(10);
  });

  it('prepares nothing after stop, and survives a service that cannot be encoded', async () => {
    const done: string[] = [];
    const preparer = new ExportPreparer(
      () => false,
      (rec) => {
        if (rec.key.endsWith(':1')) throw new Error('unencodable');
        done.push(rec.key);
      },
    );
    for (const rec of records(3)) preparer.add(rec);
    await sleep(5);
    expect(done).toEqual(['T\0h:0', 'T\0h:2']);
    preparer.stop();
    preparer.add(records(1)[0] as ServiceRecord);
    await sleep(5);
    expect(done).toEqual(['T\0h:0', 'T\0h:2']);
    expect(preparer.pending).toBe(0);
  });
});
