/**
 * OTLP/HTTP export of the agent's metrics (otlp-pipeline.ts). The OpenTelemetry SDK and exporter are loaded
 * on first use, so an agent without `metrics.otlp` (the default) does not carry them in memory.
 */

import type { ServiceRecord } from '../discovery/types.js';
import type { OtlpConfig } from './otlp-config.js';
import type { OtlpPipeline } from './otlp-pipeline.js';
import type { AgentState } from './state.js';

export interface OtlpExport {
  /** Exports once more, then stops the reader. */
  shutdown(): Promise<void>;
  /** Collects and exports now. */
  forceFlush(): Promise<void>;
  /**
   * Encodes a service's attributes now, so that an export only copies them (see prepareServiceLabels in
   * service-series.ts); a no-op until the pipeline has loaded, and with JSON.
   */
  prepare(rec: ServiceRecord): void;
}

/**
 * Loads the SDK and the exporter now, and runs the encoder once on a made-up export (otlp-warm-up.ts).
 * Compiling them holds the event loop ~100–300 ms on a small node: the agent does it before its listeners
 * receive, where it costs no datagrams (after that, startOtlpExport finds them loaded).
 */
export async function loadOtlpPipeline(): Promise<void> {
  await import('./otlp-pipeline.js');
  await (await import('./otlp-warm-up.js')).warmUpEncoder();
}

export function startOtlpExport(state: AgentState, cfg: OtlpConfig): OtlpExport {
  const pipeline: Promise<OtlpPipeline> = import('./otlp-pipeline.js').then((m) =>
    m.createOtlpPipeline(state, cfg),
  );
  // A failure to start surfaces from forceFlush() and shutdown(); it must not be an unhandled rejection.
  let loaded: OtlpPipeline | undefined;
  pipeline.then(
    (p) => {
      loaded = p;
    },
    () => {},
  );
  return {
    forceFlush: async () => (await pipeline).forceFlush(),
    shutdown: async () => (await pipeline).shutdown(),
    prepare: (rec) => loaded?.prepare(rec),
  };
}
