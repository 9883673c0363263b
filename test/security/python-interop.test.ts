/**
 * The Python in docs/protocol.md ("Signed announcements") against the TypeScript signer and verifier, both
 * ways, and the worked example of that page, byte for byte. The block is read from the doc itself, so the
 * documentation cannot drift from the code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SignatureGuard, signAnnouncement } from '../../src/discovery/security/index.js';
import type { SourceInfo } from '../../src/discovery/types.js';

const DOC = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const section = DOC.slice(DOC.indexOf('## Signed announcements'));
const PYTHON = /### Python[\s\S]*?```python\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const EXAMPLE_DATAGRAM = /and the datagram sent is\s+```json\n(.*)\n```/.exec(section)?.[1] ?? '';

const KEY = { id: 'site-2026', key: Buffer.from('0123456789abcdef0123456789abcdef') };
const BODY = '{"type":"vault","name":"vault-a","addr":"192.0.2.10:8200"}';
const T = 1_767_225_600_000;
const SRC: SourceInfo = { address: '192.0.2.10', port: 5004, family: 'IPv4', size: 0 };

const dir = mkdtempSync(join(tmpdir(), 'vm-py-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `driver` after the documented module; hex in and out keeps bytes exact. */
function python(driver: string, input: unknown): unknown {
  const file = join(dir, 'sig.py');
  writeFileSync(file, `${PYTHON}\nimport json, sys\nargs = json.loads(sys.stdin.read())\n${driver}\n`);
  return JSON.parse(execFileSync('python3', [file], { input: JSON.stringify(input), encoding: 'utf8' }));
}

function guard(group = '224.1.1.1') {
  return new SignatureGuard({
    mode: 'required',
    keys: [KEY],
    group,
    port: 5004,
    clock: { wallMs: () => T + 1_000, monotonicMs: () => 0 },
  });
}

describe('signed announcements: the documented Python and the TypeScript implementation', () => {
  it('finds the Python block and the worked example in docs/protocol.md', () => {
    expect(PYTHON).toContain('def sign(');
    expect(PYTHON).toContain('def verify(');
    expect(EXAMPLE_DATAGRAM).toContain('"sig":"v1.site-2026.1767225600000.');
  });

  it('reproduces the worked example byte for byte in both languages', () => {
    const ts = signAnnouncement(Buffer.from(BODY), KEY, '224.1.1.1', 5004, T).toString();
    const py = python(
      `print(json.dumps(sign(args["body"].encode(), "site-2026", args["key"].encode(), "224.1.1.1", 5004, ${T}).decode()))`,
      { body: BODY, key: KEY.key.toString() },
    );
    expect(ts).toBe(EXAMPLE_DATAGRAM);
    expect(py).toBe(EXAMPLE_DATAGRAM);
  });

  it('Python verifies what TypeScript signs, and rejects what it should', () => {
    const bodies = [
      BODY,
      '{}',
      '{"type":"x","addr":"h:1","note":"ünïcödé \\u0000 \\"q\\""}',
      ' {"type":"y","addr":"h:2"}  \n',
    ];
    const cases = bodies.flatMap((b) => [
      {
        d: signAnnouncement(Buffer.from(b), KEY, 'FF05:0::1:2', 5004, T).toString('hex'),
        group: 'ff05::1:2',
        want: null,
      },
      {
        d: signAnnouncement(Buffer.from(b), KEY, '224.1.1.1', 5004, T).toString('hex'),
        group: '224.1.1.2',
        want: 'signature_invalid',
      },
      {
        d: signAnnouncement(Buffer.from(b), { id: 'other', key: KEY.key }, '224.1.1.1', 5004, T).toString(
          'hex',
        ),
        group: '224.1.1.1',
        want: 'unknown_key',
      },
      {
        d: signAnnouncement(Buffer.from(b), KEY, '224.1.1.1', 5004, T - 60_000).toString('hex'),
        group: '224.1.1.1',
        want: 'replayed',
      },
    ]);
    const got = python(
      `print(json.dumps([verify(bytes.fromhex(c["d"]), {"site-2026": args["key"].encode()}, c["group"], 5004, now_ms=${T + 1000}) for c in args["cases"]]))`,
      { key: KEY.key.toString(), cases },
    );
    expect(got).toEqual(cases.map((c) => c.want));
  });

  it('TypeScript accepts what Python signs, and refuses it on another group or with another key', () => {
    const bodies = [BODY, '{}', '{"type":"x","addr":"[2001:db8::1]:80","v":[1,2,{"a":null}]}'];
    const signed = python(
      `print(json.dumps([[sign(b.encode(), "site-2026", args["key"].encode(), "224.1.1.1", 5004, ${T}).hex(), sign(b.encode(), "site-2026", b"x" * 32, "224.1.1.1", 5004, ${T}).hex()] for b in args["bodies"]]))`,
      { key: KEY.key.toString(), bodies },
    ) as [string, string][];
    for (const [good, wrongKey] of signed) {
      expect(guard().check(Buffer.from(good, 'hex'), SRC, 0)).toBeUndefined();
      expect(guard('224.1.1.9').check(Buffer.from(good, 'hex'), SRC, 0)).toBe('signature_invalid');
      expect(guard().check(Buffer.from(wrongKey, 'hex'), SRC, 0)).toBe('signature_invalid');
      // And it is still JSON the original can read.
      expect(JSON.parse(Buffer.from(good, 'hex').toString()).sig).toMatch(/^v1\.site-2026\./);
    }
  });
});
