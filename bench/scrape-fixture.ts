/**
 * Shared by the scrape benchmarks: an agent state over a real listener whose registry holds N live services,
 * each entered through the codec and ServiceRegistry.observe() exactly as received announcements are, plus the
 * two reference serializers /metrics is compared against.
 */
import { Gauge, Registry } from 'prom-client';
import type { ListenerConfig } from '../src/agent/config/types.js';
import type { AgentState, ListenerEntry } from '../src/agent/state.js';
import { decodeAnnouncement, encodeAnnouncement } from '../src/discovery/codec.js';
import { VaultMultiListener } from '../src/discovery/listener.js';
import type { ServiceRecord } from '../src/discovery/types.js';
import { METRICS, SERVICE_LABELS } from '../src/metrics/names.js';
import { prepareServiceLabels } from '../src/metrics/service-series.js';

export const GROUP = '239.18.0.1';

/** The Accept header Prometheus 2.42 sends on every scrape (with Accept-Encoding: gzip). */
export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export function serviceAnnouncement(i: number, seq: number): Buffer {
  return encodeAnnouncement(
    {
      type: `svc-${i % 10}`,
      name: `vault-${i}`,
      addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8200`,
      version: '1.15.2',
    },
    { seq, timestamp: Date.now() / 1000 },
  );
}

export function benchListenerConfig(name: string, port: number, maxServices: number): ListenerConfig {
  return {
    name,
    group: GROUP,
    port,
    interfaces: ['127.0.0.1'],
    maxDatagramBytes: 1400,
    receiveBufferBytes: 4 << 20,
    receiveQueueDatagrams: 32_768,
    serviceTimeoutMs: 3_600_000,
    retentionMs: 3_600_000,
    maxServices,
    typeFilter: '',
    extensions: true,
  };
}

export function agentState(entries: ListenerEntry[], maxServiceSeries: number): AgentState {
  return {
    version: 'bench',
    startedWallMs: Date.now(),
    listeners: () => entries,
    publishers: () => [],
    reload: { lastSuccess: true, lastSuccessWallMs: Date.now(), successes: 1, failures: 0 },
    maxServiceSeries,
  };
}

/**
 * A listener (never started: no socket) with `n` services observed through the decoder, each handed to
 * `prepare` as it is learned, as the agent prepares a service's exported bytes when it comes up.
 */
export function populatedListener(
  n: number,
  port = 5004,
  prepare: (rec: ServiceRecord) => void = prepareServiceLabels,
): ListenerEntry {
  const config = benchListenerConfig('bench', port, Math.max(n, 1));
  const listener = new VaultMultiListener({
    group: GROUP,
    port,
    interfaces: ['127.0.0.1'],
    serviceTimeout: 3600,
    retention: 3600,
    maxServices: Math.max(n, 1),
  });
  for (let i = 0; i < n; i++) {
    const decoded = decodeAnnouncement(serviceAnnouncement(i, 1), { maxBytes: 1400 });
    if (!decoded.ok) throw new Error(`fixture announcement rejected: ${decoded.detail}`);
    const { type, addr } = decoded.announcement;
    listener.registry.observe(decoded.announcement, '198.18.0.1');
    const rec = listener.registry.get(`${type}\0${addr}`);
    if (rec) prepare(rec);
  }
  return { name: 'bench', config, listener };
}

/**
 * The naive prom-client way (the baseline): one labelled Gauge per per-service family, every label
 * set removed and set again on each scrape.
 */
export function naivePromClient(state: AgentState): () => Promise<string> {
  const registry = new Registry();
  const labelNames = [...SERVICE_LABELS];
  const gauge = (def: { name: string; help: string }, extra: string[] = []) =>
    new Gauge({
      name: def.name,
      help: def.help,
      labelNames: [...labelNames, ...extra],
      registers: [registry],
    });
  const up = gauge(METRICS.serviceUp);
  const lastSeen = gauge(METRICS.serviceLastSeen);
  const info = gauge(METRICS.serviceInfo, ['version']);
  const age = gauge(METRICS.serviceAge);
  const lost = gauge(METRICS.serviceLost);
  return async () => {
    for (const g of [up, lastSeen, info, age, lost]) g.reset();
    for (const entry of state.listeners()) {
      const base = { listener: entry.name, group: entry.config.group, port: String(entry.config.port) };
      for (const rec of entry.listener.registry.services()) {
        if (rec.state === 'gone') continue;
        const labels = { ...base, service_type: rec.type, service_name: rec.name, address: rec.addr };
        up.set(labels, rec.state === 'up' ? 1 : 0);
        lastSeen.set(labels, rec.lastSeenWallMs / 1000);
        info.set({ ...labels, version: rec.version ?? '' }, 1);
        if (rec.ageSeconds !== undefined) age.set(labels, rec.ageSeconds);
        lost.set(labels, rec.lost);
      }
    }
    return registry.metrics();
  };
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The floor: one synchronous pass, string templates, no cap, no yielding, no surrogate check. */
export function minimalSerializer(state: AgentState): () => string {
  const head = (d: { name: string; help: string; type: string }) =>
    `# HELP ${d.name} ${d.help}\n# TYPE ${d.name} ${d.type}\n`;
  return () => {
    let up = head(METRICS.serviceUp);
    let seen = head(METRICS.serviceLastSeen);
    let info = head(METRICS.serviceInfo);
    let age = head(METRICS.serviceAge);
    let lost = head(METRICS.serviceLost);
    for (const entry of state.listeners()) {
      const base = `listener="${esc(entry.name)}",group="${esc(entry.config.group)}",port="${entry.config.port}"`;
      for (const rec of entry.listener.registry.services()) {
        if (rec.state === 'gone') continue;
        const l = `{${base},service_type="${esc(rec.type)}",service_name="${esc(rec.name)}",address="${esc(rec.addr)}"`;
        up += `${METRICS.serviceUp.name}${l}} ${rec.state === 'up' ? 1 : 0}\n`;
        seen += `${METRICS.serviceLastSeen.name}${l}} ${rec.lastSeenWallMs / 1000}\n`;
        info += `${METRICS.serviceInfo.name}${l},version="${esc(rec.version ?? '')}"} 1\n`;
        if (rec.ageSeconds !== undefined) age += `${METRICS.serviceAge.name}${l}} ${rec.ageSeconds}\n`;
        lost += `${METRICS.serviceLost.name}${l}} ${rec.lost}\n`;
      }
    }
    return up + seen + info + age + lost;
  };
}
