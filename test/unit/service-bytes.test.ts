/**
 * The per-service label bytes cache: encoded once per service while its identity holds, again when it renames,
 * and kept out of sight of everything else that reads the record (its keys, a spread copy, JSON).
 */
import { describe, expect, it } from 'vitest';
import type { ServiceRecord } from '../../src/discovery/types.js';
import { serviceBytes } from '../../src/metrics/service-bytes.js';

function record(name: string, version?: string): ServiceRecord {
  return { key: `t\0${name}`, type: 't', name, addr: '10.0.0.1:1', version } as unknown as ServiceRecord;
}

describe('serviceBytes', () => {
  it('encodes a service once, again when it renames, and follows its version', () => {
    let encodings = 0;
    const bytesOf = serviceBytes(
      (rec) => {
        encodings++;
        return `${rec.type}/${rec.name}`;
      },
      (v) => `v=${v ?? ''}`,
    );
    const rec = record('a', '1');
    expect(bytesOf(rec)).toMatchObject({ identity: 't/a', version: 'v=1' });
    expect(bytesOf(rec).identity).toBe('t/a');
    expect(encodings).toBe(1);
    (rec as { name: string }).name = 'b';
    expect(bytesOf(rec).identity).toBe('t/b');
    expect(encodings).toBe(2);
    (rec as { version?: string }).version = '2';
    expect(bytesOf(rec)).toMatchObject({ identity: 't/b', version: 'v=2' });
    expect(encodings).toBe(2);
  });

  it('keeps two caches apart and out of sight of the record’s readers', () => {
    const a = serviceBytes(
      (rec) => `a:${rec.name}`,
      () => '',
    );
    const b = serviceBytes(
      (rec) => `b:${rec.name}`,
      () => '',
    );
    const rec = record('x');
    const before = { keys: Object.keys(rec), json: JSON.stringify(rec), copy: { ...rec } };
    expect(a(rec).identity).toBe('a:x');
    expect(b(rec).identity).toBe('b:x');
    expect(a(rec).identity).toBe('a:x');
    expect(Object.keys(rec)).toEqual(before.keys);
    expect(JSON.stringify(rec)).toBe(before.json);
    expect({ ...rec }).toStrictEqual(before.copy);
  });
});
