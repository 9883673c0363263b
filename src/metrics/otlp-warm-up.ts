/**
 * Runs the OTLP encoder once on a made-up export before the agent's sockets open. The first export of a process
 * held the event loop 6–8 ms in its first request (a CPU profile: nearly all of it the encoder's functions
 * running for the first time, compiled as they were called); done here, on one listener with one service,
 * encoded and thrown away, that first run costs no datagram. Nothing is sent.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { VaultMultiListener } from '../discovery/listener.js';
import { ByteWriter } from './byte-writer.js';
import { AgentMetricProducer } from './otel-producer.js';
import { splitExport } from './otlp-batches.js';
import { encodeBatch } from './otlp-protobuf.js';
import type { AgentState } from './state.js';

const GROUP = '239.255.0.1';
const PORT = 9;

export async function warmUpEncoder(): Promise<void> {
  // Never started: no socket. ingest() runs the receive path without one.
  const listener = new VaultMultiListener({ group: GROUP, port: PORT, interfaces: ['127.0.0.1'] });
  listener.ingest(
    Buffer.from(
      '{"type":"warm-up","name":"warm-up","addr":"127.0.0.1:9","version":"1","seq":1,"timestamp":1}',
    ),
    { address: '127.0.0.1', port: PORT, family: 'IPv4', size: 0 },
  );
  const now = Date.now();
  const state: AgentState = {
    version: '0',
    startedWallMs: now,
    listeners: () => [{ name: 'warm-up', config: { group: GROUP, port: PORT }, listener }],
    publishers: () => [],
    reload: { lastSuccess: true, lastSuccessWallMs: now, successes: 1, failures: 0 },
    maxServiceSeries: 1,
  };
  const { resourceMetrics } = await new AgentMetricProducer(state).collect();
  const writer = new ByteWriter(0);
  const metrics = { ...resourceMetrics, resource: resourceFromAttributes({ 'service.name': 'warm-up' }) };
  for (const batch of splitExport(metrics)) encodeBatch(batch, writer);
}
