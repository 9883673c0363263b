/**
 * Reads an OTLP ExportMetricsServiceRequest in protobuf into the shape of its JSON form (the fields the tests
 * look at), from the protobuf wire format and the field numbers of opentelemetry-proto's metrics.proto,
 * common.proto and resource.proto. Written here rather than taken from the SDK, so a test checks the SDK's
 * encoder against the spec instead of against itself.
 */

type Fields = Map<number, (Buffer | bigint)[]>;

function varint(buf: Buffer, at: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[at.i++];
    if (b === undefined) throw new Error('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
}

/** Every field of one message: length-delimited ones as bytes, the others as their 64 raw bits. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const at = { i: 0 };
  while (at.i < buf.length) {
    const key = Number(varint(buf, at));
    const field = key >>> 3;
    let value: Buffer | bigint;
    switch (key & 7) {
      case 0:
        value = varint(buf, at);
        break;
      case 1:
        value = buf.readBigUInt64LE(at.i);
        at.i += 8;
        break;
      case 2: {
        const len = Number(varint(buf, at));
        value = buf.subarray(at.i, at.i + len);
        if (value.length !== len) throw new Error('truncated field');
        at.i += len;
        break;
      }
      case 5:
        value = BigInt(buf.readUInt32LE(at.i));
        at.i += 4;
        break;
      default:
        throw new Error(`wire type ${key & 7} of field ${field}`);
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (f: Fields, n: number) => (f.get(n) ?? []) as Buffer[];
const one = (f: Fields, n: number) => f.get(n)?.[0];
const text = (f: Fields, n: number) => (one(f, n) as Buffer | undefined)?.toString('utf8');

function bitsToDouble(bits: bigint): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(bits);
  return b.readDoubleLE(0);
}

interface JsonValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
}

function keyValues(list: Buffer[]): { key: string; value: JsonValue }[] {
  return list.map((kv) => {
    const f = fields(kv);
    const any = fields((one(f, 2) as Buffer | undefined) ?? Buffer.alloc(0));
    const value: JsonValue = {};
    if (any.has(1)) value.stringValue = text(any, 1);
    if (any.has(2)) value.boolValue = one(any, 2) === 1n;
    if (any.has(3)) value.intValue = BigInt.asIntN(64, one(any, 3) as bigint).toString();
    if (any.has(4)) value.doubleValue = bitsToDouble(one(any, 4) as bigint);
    return { key: text(f, 1) ?? '', value };
  });
}

/** A fixed64 field as a decimal string (nanoseconds since the epoch are past 2^53). */
const nanos = (f: Fields, n: number) => (one(f, n) as bigint | undefined)?.toString();

function dataPoints(list: Buffer[]) {
  return list.map((dp) => {
    const f = fields(dp);
    const point: {
      attributes: ReturnType<typeof keyValues>;
      startTimeUnixNano?: string;
      timeUnixNano?: string;
      asInt?: string;
      asDouble?: number;
    } = {
      attributes: keyValues(bytesOf(f, 7)),
      startTimeUnixNano: nanos(f, 2),
      timeUnixNano: nanos(f, 3),
    };
    if (f.has(6)) point.asInt = BigInt.asIntN(64, one(f, 6) as bigint).toString();
    if (f.has(4)) point.asDouble = bitsToDouble(one(f, 4) as bigint);
    return point;
  });
}

/**
 * metrics.proto: Metric{name 1, description 2, unit 3, gauge 5, sum 7}; Sum{data_points 1,
 * aggregation_temporality 2, is_monotonic 3}.
 */
function metric(buf: Buffer) {
  const f = fields(buf);
  const out: {
    name: string;
    description: string;
    unit?: string;
    gauge?: { dataPoints: ReturnType<typeof dataPoints> };
    sum?: {
      dataPoints: ReturnType<typeof dataPoints>;
      aggregationTemporality?: number;
      isMonotonic?: boolean;
    };
  } = { name: text(f, 1) ?? '', description: text(f, 2) ?? '', unit: text(f, 3) ?? '' };
  const gauge = one(f, 5) as Buffer | undefined;
  const sum = one(f, 7) as Buffer | undefined;
  if (gauge) out.gauge = { dataPoints: dataPoints(bytesOf(fields(gauge), 1)) };
  if (sum) {
    const s = fields(sum);
    out.sum = {
      dataPoints: dataPoints(bytesOf(s, 1)),
      aggregationTemporality: Number(one(s, 2) ?? 0n),
      isMonotonic: one(s, 3) === 1n,
    };
  }
  return out;
}

/** InstrumentationScope: name 1, version 2. */
function scope(buf: Buffer | undefined) {
  const f = fields(buf ?? Buffer.alloc(0));
  return { name: text(f, 1) ?? '', version: text(f, 2) ?? '' };
}

export function decodeMetricsRequest(buf: Buffer) {
  return {
    resourceMetrics: bytesOf(fields(buf), 1).map((rm) => {
      const f = fields(rm);
      const resource = one(f, 1) as Buffer | undefined;
      return {
        resource: { attributes: keyValues(resource ? bytesOf(fields(resource), 1) : []) },
        scopeMetrics: bytesOf(f, 2).map((sm) => {
          const s = fields(sm);
          return { scope: scope(one(s, 1) as Buffer | undefined), metrics: bytesOf(s, 2).map(metric) };
        }),
      };
    }),
  };
}

type Decoded = ReturnType<typeof decodeMetricsRequest>;
type DecodedMetric = ReturnType<typeof metric>;

/** A metric without its data points. */
function shape(m: DecodedMetric, container: object): string {
  const { name, description, unit } = m;
  return JSON.stringify({
    name,
    description,
    unit,
    kind: m.sum ? 'sum' : 'gauge',
    ...container,
    dataPoints: undefined,
  });
}

/**
 * The requests of one export read as one: each scope's metrics by name, their data points concatenated in the
 * order the requests came. Throws unless every request names the same single resource.
 */
export function mergeRequests(requests: Decoded[]) {
  const resources = new Set(
    requests.flatMap((r) => r.resourceMetrics.map((rm) => JSON.stringify(rm.resource))),
  );
  if (resources.size !== 1) throw new Error(`${resources.size} different resources`);
  const scopes = new Map<
    string,
    { scope: { name: string; version: string }; metrics: Map<string, DecodedMetric> }
  >();
  for (const rm of requests.flatMap((r) => r.resourceMetrics)) {
    for (const sm of rm.scopeMetrics) {
      const key = `${sm.scope.name}@${sm.scope.version}`;
      const entry = scopes.get(key) ?? { scope: sm.scope, metrics: new Map() };
      scopes.set(key, entry);
      for (const m of sm.metrics) {
        const seen = entry.metrics.get(m.name);
        if (!seen) {
          entry.metrics.set(m.name, structuredClone(m));
          continue;
        }
        const { dataPoints, ...head } = m.sum ?? m.gauge ?? { dataPoints: [] };
        const into = (seen.sum ?? seen.gauge)?.dataPoints ?? [];
        if (shape(m, head) !== shape(seen, { ...(seen.sum ?? seen.gauge), dataPoints: undefined }))
          throw new Error(`metric ${m.name} differs between requests`);
        into.push(...dataPoints);
      }
    }
  }
  return {
    resource: JSON.parse([...resources][0] ?? '{}') as Decoded['resourceMetrics'][number]['resource'],
    scopeMetrics: [...scopes.values()].map((s) => ({ scope: s.scope, metrics: [...s.metrics.values()] })),
  };
}
