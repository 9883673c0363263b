/**
 * A minimal OTLP/HTTP metrics receiver for tests: it accepts protobuf and JSON export requests on 127.0.0.1 and keeps
 * them, flattened to one row per data point, so a test can assert what a collector would have received.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeMetricsRequest } from './otlp-protobuf.js';

export interface OtlpPoint {
  metric: string;
  kind: 'sum' | 'gauge';
  unit: string;
  monotonic: boolean | undefined;
  attributes: Record<string, string | number | boolean>;
  value: number;
}

export interface OtlpRequest {
  contentType: string | undefined;
  headers: IncomingMessage['headers'];
  resource: Record<string, string | number | boolean>;
  points: OtlpPoint[];
}

interface JsonValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface JsonPoint {
  attributes?: { key: string; value: JsonValue }[];
  asInt?: string | number;
  asDouble?: number;
}
interface JsonMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: JsonPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints: JsonPoint[] };
}
interface JsonExport {
  resourceMetrics: {
    resource?: { attributes?: { key: string; value: JsonValue }[] };
    scopeMetrics: { metrics: JsonMetric[] }[];
  }[];
}

function plain(value: JsonValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue ?? '';
}

function attrs(list: { key: string; value: JsonValue }[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = Object.create(null);
  for (const { key, value } of list) out[key] = plain(value);
  return out;
}

export function flatten(body: JsonExport): { resource: OtlpRequest['resource']; points: OtlpPoint[] } {
  const points: OtlpPoint[] = [];
  let resource: OtlpRequest['resource'] = {};
  for (const rm of body.resourceMetrics) {
    resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const kind = m.sum ? 'sum' : 'gauge';
        for (const dp of (m.sum ?? m.gauge)?.dataPoints ?? []) {
          points.push({
            metric: m.name,
            kind,
            unit: m.unit ?? '',
            monotonic: m.sum?.isMonotonic,
            attributes: attrs(dp.attributes),
            value: Number(dp.asInt ?? dp.asDouble ?? Number.NaN),
          });
        }
      }
    }
  }
  return { resource, points };
}

export interface OtlpReceiver {
  readonly url: string;
  readonly requests: OtlpRequest[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Answers 400 Bad Request (which the exporter does not retry) to the n-th request (from 1) when true. */
  readonly refuse?: (n: number) => boolean;
}

export async function startOtlpReceiver(opts: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = [];
  let received = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const n = ++received;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (opts.refuse?.(n)) {
        res.writeHead(400).end('refused');
        return;
      }
      try {
        const bytes = Buffer.concat(chunks);
        const body =
          req.headers['content-type'] === 'application/x-protobuf'
            ? (decodeMetricsRequest(bytes) as JsonExport)
            : (JSON.parse(bytes.toString('utf8')) as JsonExport);
        requests.push({ contentType: req.headers['content-type'], headers: req.headers, ...flatten(body) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
