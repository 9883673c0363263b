/**
 * The services table of `browse`, fitted to the terminal's width: columns are shortened to a comfortable
 * width first, then the least useful are dropped, then the rest shortened to a minimum; nothing wraps.
 * Text from the network goes through printable(), so an announcement cannot write to the terminal.
 */
import type { ServiceRecord } from '../discovery/types.js';
import { printable } from './args.js';

interface Column {
  title: string;
  width: number;
  /** Width it may be shortened to when space is short. */
  comfortable: number;
  min: number;
  right?: boolean;
  cell(r: ServiceRecord, nowWallMs: number): string;
}

type ColumnId = 'state' | 'type' | 'name' | 'addr' | 'version' | 'source' | 'seen' | 'packets';

const COLUMNS: Record<ColumnId, Column> = {
  state: { title: 'STATE', width: 6, comfortable: 6, min: 5, cell: (r) => r.state },
  type: { title: 'TYPE', width: 16, comfortable: 12, min: 6, cell: (r) => printable(r.type) },
  name: { title: 'NAME', width: 24, comfortable: 16, min: 6, cell: (r) => printable(r.name) },
  addr: { title: 'ADDRESS', width: 28, comfortable: 22, min: 12, cell: (r) => printable(r.addr) },
  version: {
    title: 'VERSION',
    width: 10,
    comfortable: 8,
    min: 8,
    cell: (r) => printable(r.version ?? '-'),
  },
  source: { title: 'SOURCE', width: 16, comfortable: 15, min: 15, cell: (r) => r.source },
  seen: {
    title: 'SEEN',
    width: 6,
    comfortable: 6,
    min: 6,
    right: true,
    cell: (r, now) => `${Math.max(0, Math.round((now - r.lastSeenWallMs) / 1000))}s`,
  },
  packets: { title: 'PKTS', width: 7, comfortable: 7, min: 7, right: true, cell: (r) => String(r.packets) },
};

const ORDER = Object.keys(COLUMNS) as ColumnId[];

/** Applied in turn until the table fits. */
const STEPS: ({ drop: ColumnId } | { shrinkTo: 'comfortable' | 'min' })[] = [
  { drop: 'packets' },
  { shrinkTo: 'comfortable' },
  { drop: 'source' },
  { drop: 'version' },
  { shrinkTo: 'min' },
  { drop: 'seen' },
];

export interface Layout {
  columns: { id: ColumnId; width: number }[];
  /** Characters per line, at most the terminal's width. */
  width: number;
}

function lineWidth(columns: readonly { width: number }[]): number {
  return columns.reduce((n, c) => n + c.width, 0) + Math.max(0, columns.length - 1);
}

/** Which columns, how wide, for a terminal `width` columns wide (undefined: not a terminal, all of them). */
export function layout(width: number | undefined): Layout {
  let columns = ORDER.map((id) => ({ id, width: COLUMNS[id].width }));
  if (width === undefined) return { columns, width: lineWidth(columns) };
  for (const step of STEPS) {
    if (lineWidth(columns) <= width) break;
    if ('drop' in step) {
      columns = columns.filter((c) => c.id !== step.drop);
      continue;
    }
    // Shorten only as much as needed, widest first, so that the columns keep their proportions.
    while (lineWidth(columns) > width) {
      const candidates = columns.filter((c) => c.width > COLUMNS[c.id][step.shrinkTo]);
      if (candidates.length === 0) break;
      const widest = candidates.reduce((a, b) => (b.width > a.width ? b : a));
      widest.width -= 1;
    }
  }
  return { columns, width: Math.min(width, lineWidth(columns)) };
}

/** `text` cut to `width` columns, with an ellipsis where it was cut. */
export function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

function pad(text: string, width: number, right = false): string {
  const t = cut(text, width);
  return right ? t.padStart(width) : t.padEnd(width);
}

export function headerLine(l: Layout): string {
  return cut(
    l.columns.map((c) => pad(COLUMNS[c.id].title, c.width, COLUMNS[c.id].right)).join(' '),
    l.width,
  ).trimEnd();
}

export function rowLine(r: ServiceRecord, nowWallMs: number, l: Layout): string {
  const col = (c: { id: ColumnId; width: number }) =>
    pad(COLUMNS[c.id].cell(r, nowWallMs), c.width, COLUMNS[c.id].right);
  return cut(l.columns.map(col).join(' '), l.width).trimEnd();
}

/** Live first, then by type and name. */
export function sortRecords(records: Iterable<ServiceRecord>): ServiceRecord[] {
  return [...records].sort(
    (a, b) =>
      Number(a.state !== 'up') - Number(b.state !== 'up') ||
      a.type.localeCompare(b.type) ||
      a.name.localeCompare(b.name) ||
      a.addr.localeCompare(b.addr),
  );
}

/** Column titles and one row per service, `width` columns wide at most. */
export function renderRows(records: ServiceRecord[], nowWallMs: number, width?: number): string {
  const l = layout(width);
  const lines = [headerLine(l)];
  for (const r of sortRecords(records)) lines.push(rowLine(r, nowWallMs, l));
  if (records.length === 0) lines.push('(no services yet)');
  return `${lines.join('\n')}\n`;
}

/** The live table: `header` (cut to the width), a blank line, then the rows. */
export function renderTable(
  records: ServiceRecord[],
  nowWallMs: number,
  header: string,
  width?: number,
): string {
  return `${width === undefined ? header : cut(header, width)}\n\n${renderRows(records, nowWallMs, width)}`;
}
