/**
 * Basic auth for what Prometheus reads (/metrics, /api/v1/sd) from `http.basicAuthUsers`, user → scrypt hash,
 * as exporter-toolkit's web config: off by default, probes and the page stay open, a real Prometheus scrapes
 * with `basic_auth`, and the hashes `vault-multicast hash-password` prints are standard scrypt (checked with
 * Python's hashlib, an independent implementation).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/agent/config/load.js';
import { hashPassword, parseScryptHash, verifyPassword } from '../../src/agent/password-hash.js';
import { freeUdpPort, IN_TEST_NETNS, waitFor } from '../harness/netns.js';
import { PROMETHEUS, type PrometheusServer, startPrometheus } from '../ops/prometheus-server.js';
import { startTestAgent, type TestAgent } from './in-process.js';
import { CLI_MAIN } from './spawn-agent.js';

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('scrypt password hashes', () => {
  test('hash-password prints a hash that verifies the password and nothing else', async () => {
    const r = spawnSync(process.execPath, [CLI_MAIN, 'hash-password'], {
      input: 's3cret\n',
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const printed = r.stdout.trim();
    expect(printed).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    const parsed = parseScryptHash(printed);
    if ('error' in parsed) throw new Error(parsed.error);
    expect(await verifyPassword('s3cret', parsed)).toBe(true);
    expect(await verifyPassword('s3cret\n', parsed)).toBe(false);
  });

  test.skipIf(spawnSync('python3', ['--version']).status !== 0)(
    'is standard scrypt: Python hashlib agrees',
    async () => {
      const hash = await hashPassword('pässword', 10);
      const [, , , salt, key] = hash.split('$');
      const py = `import hashlib,base64,sys
pad=lambda s: s+'='*(-len(s)%4)
salt=base64.b64decode(pad(sys.argv[1])); key=base64.b64decode(pad(sys.argv[2]))
print(hashlib.scrypt('pässword'.encode(), salt=salt, n=1024, r=8, p=1, dklen=len(key)) == key)`;
      expect(execFileSync('python3', ['-c', py, salt ?? '', key ?? ''], { encoding: 'utf8' }).trim()).toBe(
        'True',
      );
    },
  );

  test('the configuration refuses a bcrypt hash or plain text, naming the key and the command', async () => {
    for (const [value, expected] of [
      [
        '$2y$10$abcdefghijklmnopqrstuu5Qh5t3B0VjCxL9FUpQ2h5gV4yE0bE2W',
        'a bcrypt hash, which this agent cannot check',
      ],
      ['hunter2', 'expected an scrypt hash'],
    ] as const) {
      const yaml = `http:\n  basicAuthUsers:\n    prometheus: '${value}'\nlisteners: [{group: 224.1.1.1, port: 5004}]\n`;
      const refused = parseConfig(yaml, 'agent.yaml', {});
      await expect(refused).rejects.toThrow(/agent\.yaml:3:\d+.*http\.basicAuthUsers\.prometheus/);
      await expect(refused).rejects.toThrow(expected);
      await expect(refused).rejects.toThrow('vault-multicast hash-password');
    }
  });
});

describe.skipIf(!IN_TEST_NETNS)('basic auth on the scrape endpoints', () => {
  let t: TestAgent;
  let prometheus: PrometheusServer | undefined;

  beforeAll(async () => {
    const hash = await hashPassword('s3cret', 10);
    t = await startTestAgent(`
http:
  listen: @HTTP@
  basicAuthUsers:
    prometheus: '${hash}'
listeners:
  - {group: 224.1.1.41, port: ${await freeUdpPort()}, interfaces: [127.0.0.1]}
`);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await t?.close();
  });

  test('asks for credentials on /metrics and /api/v1/sd only', async () => {
    for (const path of ['/metrics', '/api/v1/sd']) {
      const r = await fetch(t.url + path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="vault-multicast", charset="UTF-8"');
    }
    for (const path of ['/-/healthy', '/-/ready', '/api/v1/services', '/']) {
      expect((await fetch(t.url + path)).status, path).toBe(200);
    }
  });

  test('lets the right user in, twice (the second from memory), and no one else', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await fetch(`${t.url}/metrics`, { headers: basic('prometheus', 's3cret') });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('vault_multicast_build_info');
    }
    expect((await fetch(`${t.url}/metrics`, { headers: basic('prometheus', 's3cret!') })).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: basic('root', 's3cret') })).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(
      401,
    );
    expect((await fetch(`${t.url}/api/v1/sd`, { headers: basic('prometheus', 's3cret') })).status).toBe(200);
  });

  test.skipIf(!existsSync(PROMETHEUS))(
    'a real Prometheus scrapes it with basic_auth',
    async () => {
      const target = new URL(t.url).host;
      prometheus = await startPrometheus({
        config: {
          global: { scrape_interval: '1s' },
          scrape_configs: [
            {
              job_name: 'vault-multicast',
              basic_auth: { username: 'prometheus', password: 's3cret' },
              static_configs: [{ targets: [target] }],
            },
            { job_name: 'vault-multicast-no-auth', static_configs: [{ targets: [target] }] },
          ],
        },
      });
      const server = prometheus;
      // Polled, not read once: on a busy machine one scrape may time out (up 0) before another succeeds.
      const upOf = async (job: string) => (await server.query(`up{job="${job}"}`))[0]?.value?.[1];
      await waitFor(
        async () => (await upOf('vault-multicast')) === '1',
        'the scrape with credentials',
        60_000,
      );
      await waitFor(
        async () => (await upOf('vault-multicast-no-auth')) !== undefined,
        'the other job',
        60_000,
      );
      expect(await upOf('vault-multicast-no-auth')).toBe('0');
    },
    150_000,
  );
});
