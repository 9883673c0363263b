/**
 * The per-service families, written straight from each listener's registry into exposition bytes. At 10,000
 * services prom-client's labelled gauges cost ~0.5 s of CPU a scrape (a hash of every label set on every set());
 * here each service's escaped label set is encoded once, kept while the service keeps its type, name and
 * address, and copied into each of its lines. The work runs in time slices (time-slicer.ts) and hands the body
 * on in chunks as it goes, so a scrape neither holds the receive socket off nor builds a 40 MiB body at
 * 100,000 services.
 */

import type { ServiceRecord } from '../discovery/types.js';
import { ByteWriter } from './byte-writer.js';
import { escapeLabelValue, formatValue } from './escape.js';
import { type ExpositionFormat, familyHeader, OPENMETRICS_EOF } from './exposition.js';
import { METRICS, type MetricDef } from './names.js';
import { type ServiceBytes, serviceBytes, utf8Bytes } from './service-bytes.js';
import { PER_SERVICE_FAMILIES } from './service-families.js';
import { selectServices } from './service-select.js';
import type { AgentState, ListenerEntry } from './state.js';
import { type SliceOptions, TimeSlicer } from './time-slicer.js';

export type ServiceSeriesOptions = SliceOptions;

/**
 * Where a streamed body goes, chunk by chunk; a promise returned means "wait before writing more". A sink that
 * calls `written` once it no longer needs the chunk (a socket's write callback) lets the writer reuse it.
 */
export type Sink = (chunk: Buffer, written: () => void) => void | Promise<void>;

/** Bytes handed to the sink at a time: large enough that a 40 MiB body is ~600 writes, small enough to pipeline. */
export const CHUNK_BYTES = 64 * 1024;

type Headers = Record<ExpositionFormat, Buffer>;

function header(def: MetricDef): Headers {
  return {
    text: Buffer.from(familyHeader(def, 'text'), 'utf8'),
    openmetrics: Buffer.from(familyHeader(def, 'openmetrics'), 'utf8'),
  };
}

/** A service's `service_type="…",service_name="…",address="…"` and `,version="…"`, as UTF-8 bytes. */
const labelsOf = serviceBytes(
  (rec) =>
    utf8Bytes(
      `service_type="${escapeLabelValue(rec.type)}",service_name="${escapeLabelValue(rec.name)}",address="${escapeLabelValue(rec.addr)}"`,
    ),
  (version) => utf8Bytes(`,version="${escapeLabelValue(version ?? '')}"`),
);

/**
 * Encodes a service's label set now, so that scrapes only copy it. The agent calls this soon after a service
 * comes up (src/agent/runtime/export-preparer.ts), while its record is young.
 */
export function prepareServiceLabels(rec: ServiceRecord): void {
  labelsOf(rec);
}

interface Family {
  readonly def: MetricDef;
  readonly head: Headers;
  /** False for services that have no sample in this family. */
  readonly has?: (rec: ServiceRecord) => boolean;
  /** Writes what follows the label set (`,extra="…"` is allowed) up to and including the value. */
  readonly value: (rec: ServiceRecord, labels: ServiceBytes, out: ByteWriter) => void;
}

const CLOSE = 0x7d; // }
const SPACE = 0x20;
const NEWLINE = 0x0a;

function number(out: ByteWriter, v: number): void {
  out.byte(CLOSE);
  out.byte(SPACE);
  out.ascii(formatValue(v));
  out.byte(NEWLINE);
}

const FAMILIES: Family[] = PER_SERVICE_FAMILIES.map((family) => ({
  def: family.def,
  head: header(family.def),
  has: family.has,
  value: family.withVersion
    ? (rec, l, out) => {
        out.ascii(l.version);
        number(out, family.value(rec));
      }
    : (rec, _l, out) => number(out, family.value(rec)),
}));
const OMITTED_HEAD = header(METRICS.serviceSeriesDropped);

interface ListenerRows {
  readonly listenerPart: string;
  /** `name{listener="…",group="…",port="…",` of each family, in FAMILIES' order. */
  readonly opens: Buffer[];
  readonly records: ServiceRecord[];
  /** The label set of each record, looked up once per scrape (in the first family's pass) for all families. */
  readonly labels: ServiceBytes[];
  readonly omitted: number;
}

function listenerPartOf(entry: ListenerEntry): string {
  return `listener="${escapeLabelValue(entry.name)}",group="${escapeLabelValue(entry.config.group)}",port="${entry.config.port}"`;
}

/**
 * service_series_omitted and the five per-service families, each under one HELP/TYPE header, written to
 * `sink` in chunks of ~64 KiB. `prefix` (the rest of the exposition) goes first, so the body is one stream.
 * The set of services is taken once, so all families describe the same services even if the registry changes
 * while the writing yields; between two slices the event loop turns (and the sink may make it wait).
 */
export async function writeServiceSeries(
  state: AgentState,
  sink: Sink,
  opts: ServiceSeriesOptions & {
    readonly format?: ExpositionFormat;
    readonly prefix?: string;
    /** Bytes per chunk handed to the sink (default CHUNK_BYTES). */
    readonly chunkBytes?: number;
    /** The slicer of the whole body, when the series are part of one (its slice goes on here). */
    readonly slicer?: TimeSlicer;
  } = {},
): Promise<void> {
  const format = opts.format ?? 'text';
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  const slicer = opts.slicer ?? new TimeSlicer(opts);
  const out = new ByteWriter(chunkBytes + 4096);
  const flush = async (): Promise<void> => {
    if (out.length === 0) return;
    const chunk = out.take();
    // A drain wait does not start a new slice: on a fast socket 'drain' comes in a nextTick of the same turn,
    // and restarting the slice there let one scrape hold the loop for 100 ms at 100,000 services.
    await sink(chunk, () => out.recycle(chunk));
  };
  if (opts.prefix) out.utf8(opts.prefix);

  const rows: ListenerRows[] = [];
  for (const entry of state.listeners()) {
    const { records, omitted } = await selectServices(entry, state.maxServiceSeries, slicer);
    const listenerPart = listenerPartOf(entry);
    rows.push({
      listenerPart,
      opens: FAMILIES.map((f) => Buffer.from(`${f.def.name}{${listenerPart},`, 'utf8')),
      records,
      labels: new Array(records.length),
      omitted,
    });
  }
  out.bytes(OMITTED_HEAD[format]);
  for (const r of rows) out.utf8(`${METRICS.serviceSeriesDropped.name}{${r.listenerPart}} ${r.omitted}\n`);

  for (let f = 0; f < FAMILIES.length; f++) {
    const family = FAMILIES[f] as Family;
    const first = f === 0;
    out.bytes(family.head[format]);
    for (const r of rows) {
      const { records, labels } = r;
      const open = r.opens[f] as Buffer;
      for (let i = 0; i < records.length; i++) {
        if (slicer.due()) {
          await flush();
          await slicer.yield();
        } else if (out.length >= chunkBytes) {
          await flush();
        }
        const rec = records[i] as ServiceRecord;
        // A cold scrape builds every label set: spread over the first family's slices, not done up front.
        if (first) labels[i] = labelsOf(rec);
        const l = labels[i] as ServiceBytes;
        if (family.has && !family.has(rec)) continue;
        out.bytes(open);
        out.ascii(l.identity);
        family.value(rec, l, out);
      }
    }
  }
  if (format === 'openmetrics') out.ascii(OPENMETRICS_EOF);
  await flush();
}

/** The whole body at once (tests, benchmarks and callers that want one buffer). */
export async function collectBody(write: (sink: Sink) => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await write((chunk) => {
    chunks.push(chunk);
  });
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** The per-service part alone as text (tests). */
export async function renderServiceSeries(
  state: AgentState,
  opts: ServiceSeriesOptions = {},
): Promise<string> {
  return (await collectBody((sink) => writeServiceSeries(state, sink, opts))).toString('utf8');
}
