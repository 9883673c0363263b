/**
 * A real publisher in a process of its own (the built library), so a test can silence it with SIGKILL —
 * no goodbye, just silence — or stop it with SIGTERM, which sends the goodbye.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../agent/spawn-agent.js';

const LIBRARY = join(REPO_ROOT, 'dist', 'src', 'index.js');

const SCRIPT = `
const [library, json] = process.argv.slice(1);
const { VaultMultiPublisher } = await import(library);
const publisher = new VaultMultiPublisher(JSON.parse(json));
let first = true;
publisher.on('sent', () => { if (first) { first = false; process.stdout.write('sent\\n'); } });
process.on('SIGTERM', () => { publisher.stop().then(() => process.exit(0), () => process.exit(1)); });
await publisher.start();
`;

export interface PublisherProcessOptions {
  group: string;
  port: number;
  message: Record<string, unknown>;
  /** Seconds between announcements (default 1). */
  interval?: number;
  /** Seconds each announcement stays valid at the listener. */
  announceTtl?: number;
}

export interface PublisherProcess {
  readonly child: ChildProcess;
  /** SIGTERM: the publisher says goodbye and exits. */
  stop(): Promise<void>;
  /** SIGKILL: the publisher falls silent. */
  kill(): Promise<void>;
}

/** Starts a publisher on 127.0.0.1 (TTL 0) and resolves once its first announcement is sent. */
export async function startPublisher(opts: PublisherProcessOptions): Promise<PublisherProcess> {
  if (!existsSync(LIBRARY)) throw new Error(`${LIBRARY} missing: build first`);
  const options = {
    group: opts.group,
    port: opts.port,
    interfaces: ['127.0.0.1'],
    ttl: 0,
    interval: opts.interval ?? 1,
    jitter: 0,
    message: opts.message,
    announceTtl: opts.announceTtl,
  };
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', SCRIPT, LIBRARY, JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`publisher sent nothing within 20 s:\n${output}`)),
      20_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('sent\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`publisher exited (${code}) before sending:\n${output}`));
    });
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { child, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}
