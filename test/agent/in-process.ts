/**
 * Runs the Agent class inside the test process (real sockets, real HTTP on 127.0.0.1) with a YAML config
 * written to a temporary directory next to any secret files it names. Logs are captured, not printed.
 * Only inside a network namespace (scripts/in-netns.sh): listeners and publishers use 127.0.0.1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { loadConfigFile } from '../../src/agent/config/load.js';
import { createLogger } from '../../src/agent/logger.js';
import { freeTcpPort } from '../harness/netns.js';

export interface TestAgent {
  agent: Agent;
  url: string;
  dir: string;
  configPath: string;
  logs: string[];
  /** Rewrites the config file (same `http.listen` placeholder rules as at start). */
  writeConfig(yaml: string): Promise<void>;
  close(): Promise<void>;
}

/** `yaml` may use `@HTTP@` for the chosen host:port and `@DIR@` for the temp dir; `files` are written there. */
export async function startTestAgent(
  yaml: string,
  files: Record<string, string> = {},
  logLevel = 'debug',
  webRoot?: string,
): Promise<TestAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'vm-agent-test-'));
  for (const [name, content] of Object.entries(files))
    await writeFile(join(dir, name), content, { mode: 0o600 });
  const listen = `127.0.0.1:${await freeTcpPort()}`;
  const configPath = join(dir, 'agent.yaml');
  const writeConfig = (text: string) =>
    writeFile(configPath, text.replaceAll('@HTTP@', listen).replaceAll('@DIR@', dir));
  await writeConfig(yaml);
  const logs: string[] = [];
  const logger = createLogger({ level: logLevel, destination: { write: (s: string) => void logs.push(s) } });
  const agent = new Agent({ logger, webRoot, loadConfig: () => loadConfigFile(configPath, {}) });
  const cfg = await loadConfigFile(configPath, {});
  cfg.log.level = logLevel as typeof cfg.log.level;
  await agent.start(cfg);
  return {
    agent,
    url: `http://${listen}`,
    dir,
    configPath,
    logs,
    writeConfig,
    async close() {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sockets of this process's namespace bound to `address:port`, as /proc/net/udp inodes. The kernel hands the
 * table out a page at a time, and sockets that other tests open or close in between can make a read repeat or
 * skip a line: a listing is taken once two reads in a row agree, and each inode counts once.
 */
export async function udpSocketInodes(address: string, port: number): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const hexAddr = Buffer.from(address.split('.').map(Number).reverse()).toString('hex').toUpperCase();
  const local = `${hexAddr}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const read = async (): Promise<string[]> => {
    const inodes = new Set<string>();
    for (const line of (await readFile('/proc/net/udp', 'utf8')).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === local && cols[9] !== undefined) inodes.add(cols[9]);
    }
    return [...inodes].sort();
  };
  let last = await read();
  for (let attempt = 0; attempt < 5; attempt++) {
    const again = await read();
    if (again.join() === last.join()) break;
    last = again;
  }
  return last;
}
