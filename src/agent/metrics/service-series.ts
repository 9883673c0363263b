/**
 * The per-service families, written straight from each listener's registry into exposition text. At 10,000
 * services prom-client's labelled gauges cost ~100 ms a scrape (a hash of every label set on every set());
 * here each service costs one escaped label string reused by its five lines. The work yields to the event loop
 * every few thousand services so a scrape never holds the receive socket off long enough to lose datagrams.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AgentState } from '../state.js';
import { escapeLabelValue, formatValue } from './escape.js';
import { METRICS, type MetricDef } from './names.js';
import { selectServices } from './service-select.js';

export interface ServiceSeriesOptions {
  /** Services serialized between two yields to the event loop. */
  readonly yieldEvery?: number;
}

const DEFAULT_YIELD_EVERY = 2000;

function header(def: MetricDef): string {
  return `# HELP ${def.name} ${def.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${def.name} ${def.type}\n`;
}

const UP = METRICS.serviceUp;
const LAST_SEEN = METRICS.serviceLastSeen;
const INFO = METRICS.serviceInfo;
const AGE = METRICS.serviceAge;
const LOST = METRICS.serviceLost;
const OMITTED = METRICS.serviceSeriesDropped;
const HEADERS = {
  up: header(UP),
  lastSeen: header(LAST_SEEN),
  info: header(INFO),
  age: header(AGE),
  lost: header(LOST),
  omitted: header(OMITTED),
};

/** Renders service_series_omitted and the five per-service families, each under one HELP/TYPE header. */
export async function renderServiceSeries(
  state: AgentState,
  opts: ServiceSeriesOptions = {},
): Promise<string> {
  const yieldEvery = Math.max(1, opts.yieldEvery ?? DEFAULT_YIELD_EVERY);
  // Appending builds ropes that are flattened once, when the body is encoded for the response: no arrays of
  // lines and no intermediate joined copies of an 8 MB body.
  let omitted = HEADERS.omitted;
  let up = HEADERS.up;
  let lastSeen = HEADERS.lastSeen;
  let info = HEADERS.info;
  let age = HEADERS.age;
  let lost = HEADERS.lost;
  let sinceYield = 0;
  let first = true;

  for (const entry of state.listeners()) {
    // Between listeners too: one listener's work never adds to another's stall.
    if (!first) await nextTurn();
    first = false;
    const listenerPart = `listener="${escapeLabelValue(entry.name)}",group="${escapeLabelValue(entry.config.group)}",port="${entry.config.port}"`;
    const { records, omitted: count } = selectServices(entry, state.maxServiceSeries);
    omitted += `${OMITTED.name}{${listenerPart}} ${count}\n`;

    for (const rec of records) {
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await nextTurn();
      }
      const labels = `{${listenerPart},service_type="${escapeLabelValue(rec.type)}",service_name="${escapeLabelValue(rec.name)}",address="${escapeLabelValue(rec.addr)}"`;
      up += `${UP.name}${labels}} ${rec.state === 'up' ? 1 : 0}\n`;
      lastSeen += `${LAST_SEEN.name}${labels}} ${formatValue(rec.lastSeenWallMs / 1000)}\n`;
      info += `${INFO.name}${labels},version="${escapeLabelValue(rec.version ?? '')}"} 1\n`;
      if (rec.ageSeconds !== undefined) age += `${AGE.name}${labels}} ${formatValue(rec.ageSeconds)}\n`;
      lost += `${LOST.name}${labels}} ${formatValue(rec.lost)}\n`;
    }
  }

  return omitted + up + lastSeen + info + age + lost;
}
