/**
 * The per-service families, written straight from each listener's registry into exposition bytes. At 10,000
 * services prom-client's labelled gauges cost ~0.5 s of CPU a scrape (a hash of every label set on every set());
 * here each service's escaped label set is encoded once, kept while the service keeps its type, name and
 * address, and copied into each of its lines. The work yields to the event loop every few thousand lines so
 * a scrape never holds the receive socket off long enough to lose datagrams.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ServiceRecord } from '../../types.js';
import type { AgentState, ListenerEntry } from '../state.js';
import { ByteWriter } from './byte-writer.js';
import { escapeLabelValue, formatValue } from './escape.js';
import { METRICS, type MetricDef } from './names.js';
import { selectServices } from './service-select.js';

export interface ServiceSeriesOptions {
  /** Lines written between two yields to the event loop. */
  readonly yieldEvery?: number;
}

/** ~1,000 services' worth of lines: about a millisecond of work between two turns of the event loop. */
const DEFAULT_YIELD_EVERY = 5000;

function header(def: MetricDef): Buffer {
  const help = def.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Buffer.from(`# HELP ${def.name} ${help}\n# TYPE ${def.name} ${def.type}\n`, 'utf8');
}

/** `name{` of each family, as bytes. */
const OPEN = (def: MetricDef) => Buffer.from(`${def.name}{`, 'latin1');

/** A service's label set, encoded once. Checked against the record's fields, which may change in place. */
interface CachedLabels {
  listenerPart: string;
  type: string;
  name: string;
  addr: string;
  /** `listener="…",…,address="…"` without braces. */
  labels: Buffer;
  version: string | undefined;
  /** `,version="…"` */
  versionLabel: Buffer;
}

const cache = new WeakMap<ServiceRecord, CachedLabels>();

function labelsOf(rec: ServiceRecord, listenerPart: string): CachedLabels {
  let c = cache.get(rec);
  if (
    !c ||
    c.listenerPart !== listenerPart ||
    c.type !== rec.type ||
    c.name !== rec.name ||
    c.addr !== rec.addr
  ) {
    const text = `${listenerPart},service_type="${escapeLabelValue(rec.type)}",service_name="${escapeLabelValue(rec.name)}",address="${escapeLabelValue(rec.addr)}"`;
    c = {
      listenerPart,
      type: rec.type,
      name: rec.name,
      addr: rec.addr,
      labels: Buffer.from(text, 'utf8'),
      version: rec.version,
      versionLabel: Buffer.from(`,version="${escapeLabelValue(rec.version ?? '')}"`, 'utf8'),
    };
    cache.set(rec, c);
  } else if (c.version !== rec.version) {
    c.version = rec.version;
    c.versionLabel = Buffer.from(`,version="${escapeLabelValue(rec.version ?? '')}"`, 'utf8');
  }
  return c;
}

interface Family {
  readonly head: Buffer;
  readonly open: Buffer;
  /** False for services that have no sample in this family. */
  readonly has?: (rec: ServiceRecord) => boolean;
  /** Writes what follows the label set (`,extra="…"` is allowed) up to and including the value. */
  readonly value: (rec: ServiceRecord, labels: CachedLabels, out: ByteWriter) => void;
}

const CLOSE_ONE = Buffer.from('} 1\n', 'latin1');
const CLOSE_ZERO = Buffer.from('} 0\n', 'latin1');
const CLOSE = 0x7d; // }
const SPACE = 0x20;
const NEWLINE = 0x0a;

function number(out: ByteWriter, v: number): void {
  out.byte(CLOSE);
  out.byte(SPACE);
  out.ascii(formatValue(v));
  out.byte(NEWLINE);
}

const FAMILIES: Family[] = [
  {
    head: header(METRICS.serviceUp),
    open: OPEN(METRICS.serviceUp),
    value: (rec, _l, out) => out.bytes(rec.state === 'up' ? CLOSE_ONE : CLOSE_ZERO),
  },
  {
    head: header(METRICS.serviceLastSeen),
    open: OPEN(METRICS.serviceLastSeen),
    value: (rec, _l, out) => number(out, rec.lastSeenWallMs / 1000),
  },
  {
    head: header(METRICS.serviceInfo),
    open: OPEN(METRICS.serviceInfo),
    value: (_rec, l, out) => {
      out.bytes(l.versionLabel);
      out.bytes(CLOSE_ONE);
    },
  },
  {
    head: header(METRICS.serviceAge),
    open: OPEN(METRICS.serviceAge),
    // No sender timestamp, no age: a made-up 0 would read as a perfectly synchronised clock.
    has: (rec) => rec.ageSeconds !== undefined,
    value: (rec, _l, out) => number(out, rec.ageSeconds ?? Number.NaN),
  },
  {
    head: header(METRICS.serviceLost),
    open: OPEN(METRICS.serviceLost),
    value: (rec, _l, out) => number(out, rec.lost),
  },
];
const OMITTED_HEAD = header(METRICS.serviceSeriesDropped);

interface ListenerRows {
  readonly listenerPart: string;
  readonly records: ServiceRecord[];
  /** The label set of each record, looked up once per scrape rather than once per family. */
  readonly labels: CachedLabels[];
  readonly omitted: number;
}

function listenerPartOf(entry: ListenerEntry): string {
  return `listener="${escapeLabelValue(entry.name)}",group="${escapeLabelValue(entry.config.group)}",port="${entry.config.port}"`;
}

/** Body size of the last render, so the next one allocates once. */
let lastSize = 64 * 1024;

/**
 * service_series_omitted and the five per-service families, each under one HELP/TYPE header, as UTF-8 bytes.
 * The set of services is taken once, so all families describe the same services even if the registry changes
 * while the writing yields.
 */
export async function writeServiceSeries(
  state: AgentState,
  opts: ServiceSeriesOptions = {},
  /** Text to put before the families (the rest of the exposition), so the body is assembled in one buffer. */
  prefix = '',
): Promise<Buffer> {
  const yieldEvery = Math.max(1, opts.yieldEvery ?? DEFAULT_YIELD_EVERY);
  const rows: ListenerRows[] = [];
  for (const entry of state.listeners()) {
    const { records, omitted } = selectServices(entry, state.maxServiceSeries);
    const listenerPart = listenerPartOf(entry);
    rows.push({ listenerPart, records, labels: records.map((rec) => labelsOf(rec, listenerPart)), omitted });
  }

  const out = new ByteWriter(lastSize + prefix.length);
  out.utf8(prefix);
  out.bytes(OMITTED_HEAD);
  for (const r of rows) out.utf8(`${METRICS.serviceSeriesDropped.name}{${r.listenerPart}} ${r.omitted}\n`);

  let sinceYield = 0;
  for (const family of FAMILIES) {
    out.bytes(family.head);
    for (const r of rows) {
      const { records, labels } = r;
      for (let i = 0; i < records.length; i++) {
        // Counted per family line, so a yield comes every `yieldEvery` lines whatever the number of listeners.
        if (++sinceYield >= yieldEvery) {
          sinceYield = 0;
          await nextTurn();
        }
        const rec = records[i] as ServiceRecord;
        const l = labels[i] as CachedLabels;
        if (family.has && !family.has(rec)) continue;
        out.bytes(family.open);
        out.bytes(l.labels);
        family.value(rec, l, out);
      }
    }
  }
  lastSize = Math.max(out.length - prefix.length, 64 * 1024);
  return out.result();
}

/** The same as text (tests and callers that want a string). */
export async function renderServiceSeries(
  state: AgentState,
  opts: ServiceSeriesOptions = {},
): Promise<string> {
  return (await writeServiceSeries(state, opts)).toString('utf8');
}
