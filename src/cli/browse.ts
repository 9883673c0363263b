/**
 * `vault-multicast browse`: watch a group like `avahi-browse`. On a terminal, a table redrawn on every change
 * and fitted to its width; otherwise one line per service coming and going; with `--json`, one JSON line per
 * up/down event and per update that changed something. `--terminate` prints the list once it has settled,
 * `--first` prints the first service found and `--pick` lets the user choose one: the widget's Connect.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MULTICAST_GROUP, DEFAULT_PORT, SERVICE_TIMEOUT_SECONDS } from '../discovery/constants.js';
import { VaultMultiListener } from '../discovery/listener.js';
import type { ServiceRecord } from '../discovery/types.js';
import {
  asUsage,
  ENDPOINT_OPTIONS,
  ENDPOINT_USAGE,
  EXIT_FAILURE,
  EXIT_OK,
  interfaceOption,
  numberOption,
  printable,
  UsageError,
} from './args.js';
import { pick } from './browse-pick.js';
import { renderRows, renderTable } from './browse-table.js';
import { ChangeTracker, serviceJson } from './service-json.js';

export { renderTable } from './browse-table.js';

/** Seconds without a new service after which `--terminate` takes the list as settled. */
const DEFAULT_SETTLE_SECONDS = 3;

export const BROWSE_USAGE = `usage: vault-multicast browse [options]

${ENDPOINT_USAGE}  --type T             show only services whose type contains T
  --json               one JSON line per up/down event, and per update that changed a field
  --all                with --json: an update line for every announcement
  --terminate          print the list once no new service has come for --settle seconds, then exit
  --settle S           quiet seconds after which --terminate takes the list as complete (default ${DEFAULT_SETTLE_SECONDS})
  --first              print the first service found as JSON and exit (exit 1 on --timeout)
  --pick               choose a service on the terminal (arrows, type to filter, Enter); print it as JSON;
                       Esc exits 1
  --timeout S          exit after S seconds (default: run until SIGINT/SIGTERM)
  --service-timeout S  seconds without an announcement before a service is down (default ${SERVICE_TIMEOUT_SECONDS})
`;

const REDRAW_MS = 100;

/** `group:port via interfaces`, for messages. */
function where(listener: VaultMultiListener): string {
  const group = listener.group.includes(':') ? `[${listener.group}]` : listener.group;
  const via =
    listener.interfaces === 'all'
      ? 'all interfaces'
      : listener.interfaces.length === 0
        ? 'the default interface'
        : listener.interfaces.join(', ');
  return `${group}:${listener.port} via ${via}`;
}

/** What was heard in `seconds`, for a timeout or an empty list: nothing at all is not the same as nothing that matched. */
export function heardSummary(listener: VaultMultiListener, seconds: number, type: string): string {
  const s = listener.stats;
  const base = `on ${where(listener)} in ${Number(seconds.toFixed(1))}s`;
  if (s.packetsReceived === 0) return `heard nothing ${base}`;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s.accepted === 0 && s.dropped.filtered > 0 && s.dropped.filtered === s.packetsReceived - s.accepted)
    return `heard ${plural(s.packetsReceived, 'announcement')} ${base}, none of type ~ '${printable(type)}'`;
  if (s.accepted === 0) {
    const reasons = Object.entries(s.dropped)
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    return `heard ${plural(s.packetsReceived, 'datagram')} ${base}, none accepted (dropped: ${reasons})`;
  }
  return `heard ${plural(s.accepted, 'announcement')} ${base}, no service up`;
}

function jsonLine(rec: ServiceRecord, event?: string, reason?: string): string {
  return `${JSON.stringify({ ...(event ? { event } : {}), ...(reason ? { reason } : {}), ...serviceJson(rec) })}\n`;
}

/** Resolves on SIGINT/SIGTERM, on `signal`, or after `timeout` seconds; whichever comes first. */
function waitForEnd(timeout: number | undefined, signal: AbortSignal): Promise<'signal' | 'timeout'> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (why: 'signal' | 'timeout') => (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      signal.removeEventListener('abort', onSignal);
      if (timer) clearTimeout(timer);
      resolve(why);
    };
    const onSignal = done('signal');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    signal.addEventListener('abort', onSignal, { once: true });
    if (timeout !== undefined) timer = setTimeout(done('timeout'), timeout * 1000);
  });
}

export async function runBrowse(argv: string[]): Promise<number> {
  const { values: v } = asUsage(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...ENDPOINT_OPTIONS,
        type: { type: 'string' },
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        terminate: { type: 'boolean' },
        settle: { type: 'string' },
        first: { type: 'boolean' },
        pick: { type: 'boolean' },
        timeout: { type: 'string' },
        'service-timeout': { type: 'string' },
      },
    }),
  );
  const modes = (['first', 'pick', 'terminate'] as const).filter((m) => v[m]);
  if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} cannot be combined`);
  if (v.all && !v.json) throw new UsageError('--all goes with --json');
  if (v.settle !== undefined && !v.terminate) throw new UsageError('--settle goes with --terminate');
  const timeout = numberOption(v.timeout, 'timeout', undefined, { min: 0 });
  const settle = numberOption(v.settle, 'settle', DEFAULT_SETTLE_SECONDS, { min: 0.1 });
  const stdin = process.stdin;
  const err = process.stderr;
  if (v.pick && !(stdin.isTTY && err.isTTY))
    throw new UsageError('--pick needs a terminal (stdin and stderr); in a script use --first');

  const type = v.type ?? '';
  const listener = new VaultMultiListener({
    group: v.group ?? DEFAULT_MULTICAST_GROUP,
    port: numberOption(v.port, 'port', DEFAULT_PORT, { integer: true, min: 1, max: 65535 }),
    interfaces: interfaceOption(v.interface),
    typeFilter: type,
    serviceTimeout: numberOption(v['service-timeout'], 'service-timeout', SERVICE_TIMEOUT_SECONDS, {
      min: 0.1,
    }),
  });
  listener.on('socketError', (p) => err.write(`error: ${p.message}\n`));
  listener.on('warning', (m) => err.write(`warning: ${m}\n`));
  try {
    await listener.start();
  } catch (e) {
    err.write(`error: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
  const memberships = listener.memberships();
  if (memberships.length > 0 && memberships.every((m) => !m.joined)) {
    err.write(`error: could not join ${listener.group} on any interface\n`);
    await listener.stop();
    return EXIT_FAILURE;
  }
  // A reader that went away (`browse --json | head`) ends the command, as it ends `yes`.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_OK);
  });
  try {
    if (v.first) return await first(listener, timeout, type);
    if (v.pick) return await choose(listener, timeout, type);
    if (v.terminate) return await terminate(listener, { timeout, settle, json: v.json === true, type });
    const why = await watch(listener, { timeout, json: v.json === true, all: v.all === true, type });
    if (why === 'timeout' && listener.registry.size === 0)
      err.write(`${heardSummary(listener, timeout ?? 0, type)}\n`);
    return EXIT_OK;
  } finally {
    await listener.stop();
  }
}

async function first(
  listener: VaultMultiListener,
  timeout: number | undefined,
  type: string,
): Promise<number> {
  // SIGINT or SIGTERM end the wait like an abort.
  const ended = new AbortController();
  const ending = waitForEnd(undefined, ended.signal).then(() => ended.abort());
  try {
    const found = await listener.find(undefined, { timeout, signal: ended.signal });
    process.stdout.write(jsonLine(found));
    return EXIT_OK;
  } catch (e) {
    if ((e as { code?: string }).code === 'ETIMEDOUT')
      process.stderr.write(
        `error: no service${type ? ` of type ~ '${printable(type)}'` : ''}: ${heardSummary(listener, timeout ?? 0, type)}\n`,
      );
    return EXIT_FAILURE;
  } finally {
    ended.abort();
    await ending;
  }
}

async function choose(
  listener: VaultMultiListener,
  timeout: number | undefined,
  type: string,
): Promise<number> {
  const ended = new AbortController();
  const ending = waitForEnd(timeout, ended.signal).then((why) => {
    ended.abort();
    return why;
  });
  const title = `Pick a service on ${where(listener)}${type ? `, type ~ '${printable(type)}'` : ''} — ↑↓ move · type to filter · Enter choose · Esc cancel`;
  const chosen = await pick(listener, { input: process.stdin, output: process.stderr }, title, ended.signal);
  ended.abort();
  const why = await ending;
  if (chosen) {
    process.stdout.write(jsonLine(chosen));
    return EXIT_OK;
  }
  if (why === 'timeout')
    process.stderr.write(`no choice made: ${heardSummary(listener, timeout ?? 0, type)}\n`);
  return EXIT_FAILURE;
}

async function terminate(
  listener: VaultMultiListener,
  o: { timeout: number | undefined; settle: number; json: boolean; type: string },
): Promise<number> {
  const startedAt = performance.now();
  const done = new AbortController();
  let quiet: NodeJS.Timeout | undefined;
  const settleFrom = (): void => {
    if (quiet) clearTimeout(quiet);
    quiet = setTimeout(() => done.abort(), o.settle * 1000);
  };
  listener.on('up', settleFrom);
  settleFrom();
  await waitForEnd(o.timeout, done.signal);
  if (quiet) clearTimeout(quiet);
  listener.off('up', settleFrom);
  const services = [...listener.registry.services()];
  const out = process.stdout;
  if (o.json) for (const r of services) out.write(jsonLine(r));
  else if (services.length > 0)
    out.write(renderRows(services, Date.now(), out.isTTY ? out.columns : undefined));
  if (services.length === 0)
    process.stderr.write(`${heardSummary(listener, (performance.now() - startedAt) / 1000, o.type)}\n`);
  return EXIT_OK;
}

async function watch(
  listener: VaultMultiListener,
  o: { timeout: number | undefined; json: boolean; all: boolean; type: string },
): Promise<'signal' | 'timeout'> {
  const out = process.stdout;
  const table = !o.json && out.isTTY === true;
  let dirty = true;
  if (o.json) {
    const tracker = new ChangeTracker();
    listener.on('up', (r) => {
      tracker.changed(r);
      out.write(jsonLine(r, 'up'));
    });
    listener.on('update', (r) => {
      if (tracker.changed(r) || o.all) out.write(jsonLine(r, 'update'));
    });
    listener.on('down', (r, reason) => {
      tracker.changed(r);
      out.write(jsonLine(r, 'down', reason));
    });
    listener.on('removed', (r) => tracker.forget(r));
  } else if (table) {
    const mark = (): void => {
      dirty = true;
    };
    for (const e of ['up', 'update', 'down', 'removed'] as const) listener.on(e, mark);
    out.on('resize', mark);
  } else {
    const line = (sign: string, r: ServiceRecord, extra = ''): void => {
      out.write(
        `${sign} ${printable(r.type)} ${printable(r.name)} ${printable(r.addr)} ${printable(r.version ?? '-')} from ${r.source}${extra}\n`,
      );
    };
    listener.on('up', (r) => line('+', r));
    listener.on('down', (r, reason) => line('-', r, ` (${reason})`));
  }

  const header = `vault-multicast browse — ${where(listener)}${o.type ? `, type ~ '${printable(o.type)}'` : ''} (Ctrl-C to quit)`;
  const timers: NodeJS.Timeout[] = [];
  if (table) {
    const draw = (): void => {
      if (!dirty) return;
      dirty = false;
      out.write(
        `\x1b[H\x1b[2J${renderTable([...listener.registry.services()], Date.now(), header, out.columns)}`,
      );
    };
    draw();
    timers.push(setInterval(draw, REDRAW_MS));
    // The SEEN column ages even when nothing arrives.
    timers.push(
      setInterval(() => {
        dirty = true;
      }, 1000),
    );
  }
  const never = new AbortController();
  const why = await waitForEnd(o.timeout, never.signal);
  for (const t of timers) clearInterval(t);
  return why;
}
