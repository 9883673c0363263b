#!/usr/bin/env -S node --max-semi-space-size=16
/**
 * The `vault-multicast` command: `publish`, `browse` and `agent`. The agent is loaded only when asked for,
 * so the two small commands never load its dependencies. Exit codes: 0 success, 1 failure, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { VaultMulticastError } from '../discovery/errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, usageMessage } from './args.js';
import { BROWSE_USAGE, runBrowse } from './browse.js';
import { HASH_PASSWORD_USAGE, runHashPassword } from './hash-password.js';
import { PUBLISH_USAGE, runPublish } from './publish.js';

const USAGE = `usage: vault-multicast <command> [options]

commands:
  publish   announce a service on a multicast group
  browse    watch the services announced on a group
  agent     run the Prometheus/OpenTelemetry agent (vault-multicast agent --config FILE)
  hash-password  hash a password read on stdin for http.basicAuthUsers

  vault-multicast <command> --help   options of a command
  vault-multicast --version          print the version
`;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  publish: { usage: PUBLISH_USAGE, run: runPublish },
  browse: { usage: BROWSE_USAGE, run: runBrowse },
  'hash-password': { usage: HASH_PASSWORD_USAGE, run: runHashPassword },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  if (command === 'agent') {
    const { runAgentCli } = (await import('./agent.js')) as { runAgentCli: (a: string[]) => Promise<number> };
    return runAgentCli(rest);
  }
  const cmd = COMMANDS[command];
  if (!cmd) {
    const near = ['publish', 'browse', 'agent', 'hash-password'].find((c) =>
      c.startsWith(command.slice(0, 3)),
    );
    const hint = near !== undefined && command.length >= 3 ? `; did you mean ${near}?` : '';
    process.stderr.write(`unknown command '${command}'${hint}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage);
    return EXIT_OK;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${usageMessage(err, cmd.usage)}\n${cmd.usage}`);
      return EXIT_USAGE;
    }
    if (err instanceof VaultMulticastError && (err.code === 'EINVAL' || err.code === 'EMSGSIZE')) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Sockets and timers are closed by now; exit promptly even if a stray handle lingers.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
