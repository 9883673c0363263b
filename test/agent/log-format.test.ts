/**
 * log.format as node_exporter's --log.format: json for collectors, logfmt, and pretty for a person; pretty by
 * default on a terminal and json otherwise. Every format keeps the fields and escapes what could rewrite a
 * terminal. Also: a bind failure of the HTTP server names http.listen, the key to change.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { formatLine } from '../../src/agent/log-format.js';
import { createLogger } from '../../src/agent/logger.js';
import { freeUdpPort, IN_TEST_NETNS } from '../harness/netns.js';
import { CLI_MAIN, type SpawnedAgent, spawnAgent } from './spawn-agent.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

function logged(format: 'json' | 'logfmt' | 'pretty'): string {
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    format,
    destination: { write: (s: string) => void lines.push(s) },
  });
  log.child({ listener: 'lan' }).warn({ name: 'evil\u001b[2J\nname\u0085\u202e', count: 3 }, 'service up');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(RAW_CONTROL);
  return lines[0] ?? '';
}

describe('log formats', () => {
  // The logger shows control characters visibly (src/metrics/visible.ts), and the formatter escapes any left.
  const HOSTILE_NAME =
    'name="evil(\\\\u001b|\u241b)\\[2J(\\\\n|\u240a)name(\\\\u0085|<U\\+0085>)(\\\\u202e|<U\\+202E>)"';

  test('logfmt: time, level and msg first, then every field, hostile text escaped on one line', () => {
    const line = logged('logfmt');
    expect(line).toMatch(
      new RegExp(
        `^time=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z level=warn msg="service up" pid=\\d+ listener=lan ${HOSTILE_NAME} count=3\n$`,
      ),
    );
  });

  test('pretty: a short time, the level and the message, then the fields', () => {
    const line = logged('pretty');
    expect(line).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN {2}service up {2}listener=lan ${HOSTILE_NAME} count=3\n$`,
      ),
    );
  });

  test('json: the pino line itself', () => {
    expect(JSON.parse(logged('json'))).toMatchObject({
      level: 'warn',
      msg: 'service up',
      listener: 'lan',
      count: 3,
    });
  });

  test('a line that is not JSON passes through unchanged', () => {
    expect(formatLine('plain\n', 'logfmt')).toBe('plain\n');
  });
});

describe.skipIf(!IN_TEST_NETNS)('the agent process', () => {
  const agents: SpawnedAgent[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop();
  });
  const config = async (extra: Record<string, unknown>) => ({
    listeners: [{ group: '239.31.0.1', port: await freeUdpPort(), interfaces: ['127.0.0.1'] }],
    ...extra,
  });

  test('writes JSON when stdout is not a terminal, logfmt when asked', async () => {
    const json = await spawnAgent(await config({}));
    agents.push(json);
    const first = json.logs().split('\n')[0] ?? '';
    expect(JSON.parse(first)).toHaveProperty('msg');
    const logfmt = await spawnAgent(await config({ log: { format: 'logfmt' } }));
    agents.push(logfmt);
    expect(logfmt.logs()).toMatch(/^time=\S+ level=info msg="[^"]+"/);
  });

  test('writes pretty lines on a terminal (under script(1)), and a refused config as the plain report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm-tty-'));
    try {
      const path = join(dir, 'agent.yaml');
      writeFileSync(path, JSON.stringify(await config({ http: { listen: '127.0.0.1:0' } })));
      const onTty = (args: string) =>
        spawnSync(
          'script',
          ['-qec', `timeout -s TERM 4 ${process.execPath} ${CLI_MAIN} agent ${args}`, '/dev/null'],
          {
            encoding: 'utf8',
            timeout: 30_000,
          },
        ).stdout;
      const running = onTty(`--config ${path}`);
      expect(running).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}agent started/m);
      expect(running).not.toContain('{"');
      const refused = onTty(`--config ${join(dir, 'missing.yaml')}`);
      expect(refused).toContain(`${join(dir, 'missing.yaml')}: `);
      expect(refused).toContain('configuration invalid; not starting');
      expect(refused).not.toContain('{"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('names http.listen when the address is in use', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as { port: number }).port;
    try {
      const agent = await spawnAgent(await config({ http: { listen: `127.0.0.1:${port}` } }), {
        waitReady: false,
      });
      agents.push(agent);
      expect((await agent.exited()).code).toBe(1);
      expect(agent.logs()).toContain(
        `http.listen 127.0.0.1:${port}: the address is in use (another agent or program listens there) (EADDRINUSE); change http.listen`,
      );
    } finally {
      holder.close();
    }
  });
});
