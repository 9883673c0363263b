/**
 * `vault-multicast agent --config FILE [--check] [--log-level L]`
 *
 * `argv` is what follows `agent` on the command line. Resolves with the exit code once the agent has stopped:
 * 0 after a clean shutdown, 1 when the configuration cannot be loaded or the agent cannot start, 2 for bad
 * usage. Signals: SIGHUP reloads (bursts collapse into at most one follow-up reload); SIGTERM and SIGINT stop
 * gracefully (readiness 503 at once, goodbyes, sockets, HTTP) within 5 s; a second SIGTERM/SIGINT exits at
 * once with 128 + the signal number.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../agent/config/load.js';
import type { AgentConfig } from '../agent/config/types.js';
import { errorCode } from '../discovery/errors.js';
import { asUsage, type UsageError, usageMessage } from './args.js';

const USAGE = `usage: vault-multicast agent --config FILE [--check] [--log-level debug|info|warn|error]

  --config FILE     YAML configuration (docs/configuration.md)
  --check           validate the configuration, print a summary, exit 0 (valid) or 1 (invalid)
  --log-level L     override log.level of the configuration
`;

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
/** Whole graceful shutdown, after which the process exits regardless. */
const SHUTDOWN_DEADLINE_MS = 4500;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function runAgentCli(argv: string[]): Promise<number> {
  let values: { config?: string; check?: boolean; 'log-level'?: string; help?: boolean };
  try {
    ({ values } = asUsage(() =>
      parseArgs({
        args: argv,
        options: {
          config: { type: 'string', short: 'c' },
          check: { type: 'boolean' },
          'log-level': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      }),
    ));
  } catch (err) {
    process.stderr.write(`error: ${usageMessage(err as UsageError, USAGE)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const path = values.config;
  if (path === undefined) {
    process.stderr.write(`--config is required\n${USAGE}`);
    return 2;
  }
  const levelOverride = values['log-level'];
  if (levelOverride !== undefined && !LEVELS.has(levelOverride)) {
    process.stderr.write(`--log-level must be one of debug, info, warn, error\n${USAGE}`);
    return 2;
  }

  if (values.check) return check(path);
  return run(path, levelOverride as AgentConfig['log']['level'] | undefined);
}

/** The plain report of a configuration that does not load, as --check and a refused start print it. */
function configReport(path: string, err: unknown): string {
  return `${err instanceof ConfigError ? err.message : `${path}: ${(err as Error).message}`}\n`;
}

async function check(path: string): Promise<number> {
  try {
    const cfg = await loadConfigFile(path);
    process.stdout.write(
      `config OK: ${cfg.listeners.length} listeners, ${cfg.publishers.length} publishers\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(configReport(path, err));
    return 1;
  }
}

async function run(path: string, levelOverride: AgentConfig['log']['level'] | undefined): Promise<number> {
  // Loaded here, not at the top, so that --check does not pay for express, prom-client and OpenTelemetry.
  const [{ Agent }, { createLogger }] = await Promise.all([
    import('../agent/agent.js'),
    import('../agent/logger.js'),
  ]);
  const load = async () => {
    const cfg = await loadConfigFile(path);
    if (levelOverride !== undefined) cfg.log.level = levelOverride;
    return cfg;
  };
  // Read before the logger exists, because it chooses the log format; a refused start prints what --check does.
  let cfg: AgentConfig;
  try {
    cfg = await load();
  } catch (err) {
    process.stderr.write(`${configReport(path, err)}configuration invalid; not starting\n`);
    return 1;
  }
  const log = createLogger({ level: cfg.log.level, format: cfg.log.format });
  const agent = new Agent({ logger: log, loadConfig: load });

  let stopping: Promise<number> | undefined;
  let startDone = false;
  let reloadAfterStart = false;

  const shutdown = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down');
      const deadline = setTimeout(() => {
        log.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      try {
        await agent.stop();
      } finally {
        clearTimeout(deadline);
      }
      return 0;
    })();
    return stopping;
  };

  let resolveSignalled: (code: number) => void = () => undefined;
  const signalled = new Promise<number>((r) => {
    resolveSignalled = r;
  });
  const onStopSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(SIGNAL_EXIT[signal] ?? 1);
    }
    void shutdown(signal).then(resolveSignalled);
  };
  const onHup = () => {
    if (stopping) return;
    if (!startDone) {
      reloadAfterStart = true;
      return;
    }
    log.info('SIGHUP: reloading');
    void agent.requestReload();
  };
  const onFatal = (err: unknown) => {
    // Running out of descriptors is a siege, not a bug: whatever failed is retried by its own timer once
    // descriptors are free again, and exiting would hand the attacker the outage it wanted.
    const code = errorCode(err);
    if (code === 'EMFILE' || code === 'ENFILE') {
      agent.countHttpRejection('descriptor_exhaustion');
      log.error({ code, err: err instanceof Error ? err.message : String(err) }, 'out of file descriptors');
      return;
    }
    log.fatal({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'uncaught exception');
    process.exit(1);
  };
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onFatal);
  const detach = () => {
    process.off('SIGTERM', onStopSignal);
    process.off('SIGINT', onStopSignal);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onFatal);
  };

  try {
    if (!stopping) {
      try {
        await agent.start(cfg);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'agent could not start');
        await shutdown('start failed');
        return 1;
      }
    }
    startDone = true;
    if (reloadAfterStart && !stopping) void agent.requestReload();
    return await signalled;
  } finally {
    detach();
  }
}
