/**
 * `vault-multicast browse`: watch a group like `avahi-browse`. On a terminal, a table redrawn on every change;
 * otherwise one line per service coming and going; with `--json`, one JSON line per up/update/down event.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MULTICAST_GROUP, DEFAULT_PORT, SERVICE_TIMEOUT_SECONDS } from '../constants.js';
import { VaultMultiListener } from '../listener.js';
import type { ServiceRecord } from '../types.js';
import {
  asUsage,
  ENDPOINT_OPTIONS,
  ENDPOINT_USAGE,
  EXIT_FAILURE,
  EXIT_OK,
  interfaceOption,
  numberOption,
  printable,
} from './args.js';

export const BROWSE_USAGE = `usage: vault-multicast browse [options]

${ENDPOINT_USAGE}  --type T             show only services whose type contains T
  --json               one JSON line per up/update/down event instead of a table
  --timeout S          exit after S seconds (default: run until SIGINT/SIGTERM)
  --service-timeout S  seconds without an announcement before a service is down (default ${SERVICE_TIMEOUT_SECONDS})
`;

const REDRAW_MS = 100;

function recordJson(event: string, rec: ServiceRecord, reason?: string): string {
  return JSON.stringify({
    event,
    ...(reason ? { reason } : {}),
    type: rec.type,
    name: rec.name,
    addr: rec.addr,
    host: rec.host,
    port: rec.port ?? null,
    version: rec.version ?? null,
    state: rec.state,
    source: rec.source,
    packets: rec.packets,
    lost: rec.lost,
    first_seen: rec.firstSeenWallMs / 1000,
    last_seen: rec.lastSeenWallMs / 1000,
    data: rec.data,
  });
}

function pad(text: string, width: number): string {
  const t = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return t.padEnd(width);
}

/** The table as text: one row per service, live first, then by type and name. */
export function renderTable(records: ServiceRecord[], nowWallMs: number, header: string): string {
  const rows = [...records].sort(
    (a, b) =>
      Number(a.state !== 'up') - Number(b.state !== 'up') ||
      a.type.localeCompare(b.type) ||
      a.name.localeCompare(b.name),
  );
  const lines = [
    header,
    '',
    `${pad('STATE', 6)} ${pad('TYPE', 16)} ${pad('NAME', 24)} ${pad('ADDRESS', 28)} ${pad('VERSION', 10)} ${pad('SOURCE', 16)} ${'SEEN'.padStart(6)} ${'PKTS'.padStart(7)}`,
  ];
  for (const r of rows) {
    const age = Math.max(0, Math.round((nowWallMs - r.lastSeenWallMs) / 1000));
    lines.push(
      `${pad(r.state, 6)} ${pad(printable(r.type), 16)} ${pad(printable(r.name), 24)} ${pad(printable(r.addr), 28)} ${pad(printable(r.version ?? '-'), 10)} ${pad(r.source, 16)} ${`${age}s`.padStart(6)} ${String(r.packets).padStart(7)}`,
    );
  }
  if (rows.length === 0) lines.push('(no services yet)');
  return `${lines.join('\n')}\n`;
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
        timeout: { type: 'string' },
        'service-timeout': { type: 'string' },
      },
    }),
  );
  const timeout = numberOption(v.timeout, 'timeout', undefined, { min: 0 });
  const listener = new VaultMultiListener({
    group: v.group ?? DEFAULT_MULTICAST_GROUP,
    port: numberOption(v.port, 'port', DEFAULT_PORT, { integer: true, min: 1, max: 65535 }),
    interfaces: interfaceOption(v.interface),
    typeFilter: v.type ?? '',
    serviceTimeout: numberOption(v['service-timeout'], 'service-timeout', SERVICE_TIMEOUT_SECONDS, {
      min: 0.1,
    }),
  });
  const out = process.stdout;
  const err = process.stderr;
  const table = !v.json && out.isTTY === true;
  listener.on('socketError', (p) => err.write(`error: ${p.message}\n`));
  listener.on('warning', (m) => err.write(`warning: ${m}\n`));

  let dirty = true;
  if (v.json) {
    listener.on('up', (r) => out.write(`${recordJson('up', r)}\n`));
    listener.on('update', (r) => out.write(`${recordJson('update', r)}\n`));
    listener.on('down', (r, reason) => out.write(`${recordJson('down', r, reason)}\n`));
  } else if (table) {
    const mark = (): void => {
      dirty = true;
    };
    for (const e of ['up', 'update', 'down', 'removed'] as const) listener.on(e, mark);
  } else {
    const line = (sign: string, r: ServiceRecord, extra = ''): void => {
      out.write(
        `${sign} ${printable(r.type)} ${printable(r.name)} ${printable(r.addr)} ${printable(r.version ?? '-')} from ${r.source}${extra}\n`,
      );
    };
    listener.on('up', (r) => line('+', r));
    listener.on('down', (r, reason) => line('-', r, ` (${reason})`));
  }

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

  const where = `${listener.group} port ${listener.port}`;
  const header = `vault-multicast browse — ${where}${v.type ? `, type ~ '${printable(v.type)}'` : ''} (Ctrl-C to quit)`;
  let redraw: NodeJS.Timeout | undefined;
  if (table) {
    const draw = (): void => {
      if (!dirty) return;
      dirty = false;
      out.write(`\x1b[H\x1b[2J${renderTable([...listener.registry.services()], Date.now(), header)}`);
    };
    draw();
    redraw = setInterval(draw, REDRAW_MS);
    // The SEEN column ages even when nothing arrives.
    const ager = setInterval(() => {
      dirty = true;
    }, 1000);
    ager.unref();
  }

  const code = await new Promise<number>((resolve) => {
    const done = (): void => resolve(EXIT_OK);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (timeout !== undefined) setTimeout(done, timeout * 1000).unref();
  });
  if (redraw) clearInterval(redraw);
  await listener.stop();
  return code;
}
