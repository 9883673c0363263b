/**
 * The listener's receive path without a socket: the same handler the socket calls, fed the benchmark's
 * announcements in a loop, so its own cost can be told apart from Node's dgram cost. Also the codec alone.
 */
import type { RemoteInfo } from 'node:dgram';
import { decodeAnnouncement, VaultMultiListener } from '../../src/index.js';

export interface PipelineCost {
  handlerUs: number;
  decodeUs: number;
}

/** The sender's announcements (bench/ingest/sender.py builds the same shape). */
function announcements(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const msg = {
      type: 'vault',
      name: `node-${String(i).padStart(4, '0')}`,
      addr: `198.18.7.7:${10000 + i}`,
      version: '1.15.2',
      timestamp: 1795600000.25 + i,
      cluster: 'bench',
    };
    out.push(Buffer.from(JSON.stringify(msg)));
  }
  return out;
}

function cpuUsPer(n: number, fn: (i: number) => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

export function measurePipeline(rounds = 3, perRound = 400_000): PipelineCost {
  const buffers = announcements(128);
  const listener = new VaultMultiListener({ group: '239.255.77.2', port: 5004 });
  // ingest() is the receive handler the socket's 'message' event calls.
  const handler = (b: Buffer, r: RemoteInfo) => listener.ingest(b, r);
  const rinfo: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 40000, size: 150 };
  let handlerUs = Number.POSITIVE_INFINITY;
  let decodeUs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    handlerUs = Math.min(
      handlerUs,
      cpuUsPer(perRound, (i) => handler(buffers[i & 127] as Buffer, rinfo)),
    );
    decodeUs = Math.min(
      decodeUs,
      cpuUsPer(perRound, (i) => decodeAnnouncement(buffers[i & 127] as Buffer, { maxBytes: 1400 })),
    );
  }
  if (listener.stats.accepted !== rounds * perRound)
    throw new Error('the pipeline refused benchmark announcements');
  return { handlerUs, decodeUs };
}
