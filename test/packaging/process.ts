/** Runs a command to completion, collecting stdout and stderr together, for the packaging tests. */
import { spawn } from 'node:child_process';

export interface Outcome {
  code: number | null;
  out: string;
}

export function runCollect(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let out = '';
    const append = (b: Buffer) => {
      out += b.toString();
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

/** PATH without any node_modules/.bin, so a tool missing from a fresh install is not found in the work tree's. */
export function cleanPath(): string {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .filter((p) => !p.includes('node_modules'))
    .join(':');
}

/** npm settings for installs inside a test namespace, which has no network: the machine's cache serves all. */
export const NPM_OFFLINE_ENV = {
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

export const NOT_CACHED_HINT = '(the npm cache lacks a package: run `npm ci` outside a namespace)';
