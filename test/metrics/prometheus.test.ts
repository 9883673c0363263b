import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DROP_REASONS } from '../../src/discovery/drop-reasons.js';
import { METRICS } from '../../src/metrics/names.js';
import { createMetricsHandler } from '../../src/metrics/prometheus.js';
import { SAMPLE_READERS } from '../../src/metrics/samples.js';
import { serveMetrics } from '../../src/metrics/serve.js';
import { collectBody, renderServiceSeries, writeServiceSeries } from '../../src/metrics/service-series.js';
import { TimeSlicer } from '../../src/metrics/time-slicer.js';
import { REVISION } from '../../src/metrics/version.js';
import { duplicateSeries, find, parseExposition, promtoolCheck } from './exposition.js';
import { FakeState } from './fakes.js';

const L = { listener: 'lan', group: '224.1.1.1', port: '5004' };

/**
 * Counts turns of the event loop until stopped; `onTurn` runs at each (to change the registry mid-scrape).
 * A scrape that never gives the loop back shows no turns.
 */
function countTurns(onTurn: (turn: number) => void = () => {}): { turns: () => number; stop: () => void } {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    onTurn(++turns);
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    turns: () => turns,
    stop: () => {
      ticking = false;
    },
  };
}

/**
 * `n` services with a metrics port, announced from link-local addresses: never offered as SD targets by
 * default, so each one is withheld, and each walk of the SD targets visits them all.
 */
function withheldTargets(n: number) {
  const state = new FakeState();
  const lan = state.addListener('lan');
  for (let i = 0; i < n; i++)
    lan.registry.add({
      type: 'T',
      name: `s${i}`,
      addr: `10.5.${i >> 8}.${i & 255}:1`,
      metricsPort: 9100,
      source: `169.254.${i >> 8}.${i & 255}`,
    });
  return { state, lan };
}

function scenario() {
  const state = new FakeState();
  const lan = state.addListener('lan');
  lan.stats.packetsReceived = 12;
  lan.stats.bytesReceived = 1200;
  lan.stats.accepted = 9;
  lan.stats.dropped.not_json = 2;
  lan.stats.dropped.oversize = 1;
  lan.stats.socketErrors = { ENOBUFS: 3 };
  lan.stats.callbackErrors = 1;
  lan.stats.lastReceivedWallMs = 1_700_000_002_250;
  lan.registry.stats = { discovered: 3, expired: 1, goodbyes: 1, conflicts: 2, refused: 0 };
  lan.registry.add({
    type: 'VaultLibrary',
    name: 'a',
    addr: '10.0.0.1:8200',
    version: '1.2.3',
    lost: 4,
    ageSeconds: 0.25,
  });
  lan.registry.add({ type: 'VaultLibrary', name: 'b', addr: '10.0.0.2:8200', state: 'stale' });
  lan.registry.add({ type: 'VaultLibrary', name: 'c', addr: '10.0.0.3:8200', state: 'gone' });
  const pub = state.addPublisher('self');
  pub.stats = {
    packetsSent: 5,
    bytesSent: 500,
    sendErrors: { ENETUNREACH: 1 },
    lastSentWallMs: 1_700_000_003_000,
  };
  return { state, lan, pub };
}

async function scrape(state: FakeState, processMetrics = false) {
  const body = await createMetricsHandler(state, { processMetrics }).render();
  return { body, exp: parseExposition(body) };
}

describe('createMetricsHandler', () => {
  it('exports the listener, publisher and agent families from lifetime totals', async () => {
    const { state } = scenario();
    const { exp } = await scrape(state);
    const value = (name: string, labels: Record<string, string> = {}) => {
      const hits = find(exp, name, labels);
      expect(hits, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return hits[0]?.value;
    };
    expect(value(METRICS.receivedPackets.name, L)).toBe(12);
    expect(value(METRICS.receivedBytes.name, L)).toBe(1200);
    expect(value(METRICS.acceptedPackets.name, L)).toBe(9);
    expect(value(METRICS.droppedPackets.name, { ...L, reason: 'not_json' })).toBe(2);
    expect(value(METRICS.receiveErrors.name, { ...L, reason: 'ENOBUFS' })).toBe(3);
    expect(value(METRICS.receiveErrors.name, { ...L, reason: 'callback' })).toBe(1);
    expect(value(METRICS.receiveBuffer.name, L)).toBe(425_984);
    expect(value(METRICS.lastReceived.name, L)).toBe(1_700_000_002.25);
    expect(value(METRICS.groupMembership.name, { ...L, interface: '127.0.0.1' })).toBe(1);
    expect(value(METRICS.activeServices.name, L)).toBe(1);
    expect(value(METRICS.services.name, { ...L, state: 'stale' })).toBe(1);
    expect(value(METRICS.services.name, { ...L, state: 'gone' })).toBe(1);
    expect(value(METRICS.servicesDiscovered.name, L)).toBe(3);
    expect(value(METRICS.servicesExpired.name, { ...L, reason: 'goodbye' })).toBe(1);
    expect(value(METRICS.serviceConflicts.name, L)).toBe(2);
    const P = { publisher: 'self', group: '224.1.1.1', port: '5004' };
    expect(value(METRICS.sentPackets.name, P)).toBe(5);
    expect(value(METRICS.sentBytes.name, P)).toBe(500);
    expect(value(METRICS.sendErrors.name, { ...P, reason: 'ENETUNREACH' })).toBe(1);
    expect(value(METRICS.lastSent.name, P)).toBe(1_700_000_003);
    expect(
      value(METRICS.buildInfo.name, {
        version: '0.1.0-test',
        revision: REVISION,
        nodejs_version: process.version,
      }),
    ).toBe(1);
    expect(REVISION).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(value(METRICS.configReloadSuccessful.name)).toBe(1);
    expect(value(METRICS.configReloads.name, { result: 'failure' })).toBe(0);
  });

  it('exports every drop reason from the first scrape, zeros included, so rate() works at once', async () => {
    const state = new FakeState();
    state.addListener('lan');
    const { exp } = await scrape(state);
    const reasons = find(exp, METRICS.droppedPackets.name, L).map((s) => s.labels.reason);
    expect(reasons.sort()).toEqual([...DROP_REASONS].sort());
  });

  it('exports up services as 1 and stale ones as 0, and leaves goodbye services out', async () => {
    const { state } = scenario();
    const { exp } = await scrape(state);
    const up = find(exp, METRICS.serviceUp.name, L);
    expect(up.map((s) => [s.labels.service_name, s.value])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(find(exp, METRICS.serviceLastSeen.name, { service_name: 'a' })[0]?.value).toBe(1_700_000_001.5);
    expect(find(exp, METRICS.serviceInfo.name, { service_name: 'a' })[0]?.labels.version).toBe('1.2.3');
    expect(find(exp, METRICS.serviceLost.name, { service_name: 'a' })[0]?.value).toBe(4);
    expect(find(exp, METRICS.serviceAge.name, { service_name: 'a' })[0]?.value).toBe(0.25);
    // No sender timestamp, no age series (rather than a made-up 0).
    expect(find(exp, METRICS.serviceAge.name, { service_name: 'b' })).toHaveLength(0);
    expect(exp.samples.filter((s) => s.labels.service_name === 'c')).toHaveLength(0);
  });

  it('drops the series of a forgotten service and of a removed listener at the next scrape', async () => {
    const { state, lan } = scenario();
    const before = await scrape(state);
    expect(find(before.exp, METRICS.serviceUp.name, { service_name: 'b' })).toHaveLength(1);
    lan.registry.records.delete('VaultLibrary\u000010.0.0.2:8200');
    const after = await scrape(state);
    expect(find(after.exp, METRICS.serviceUp.name, { service_name: 'b' })).toHaveLength(0);
    expect(find(after.exp, METRICS.serviceUp.name, { service_name: 'a' })).toHaveLength(1);

    state.listenerEntries.delete('lan');
    const gone = await scrape(state);
    expect(gone.exp.samples.filter((s) => s.labels.listener === 'lan')).toEqual([]);
  });

  it('caps per-service series per listener, keeps up services first and counts the rest', async () => {
    const state = new FakeState(3);
    const lan = state.addListener('lan');
    for (let i = 0; i < 3; i++)
      lan.registry.add({ type: 'T', name: `stale${i}`, addr: `10.0.1.${i}:1`, state: 'stale' });
    for (let i = 0; i < 2; i++) lan.registry.add({ type: 'T', name: `up${i}`, addr: `10.0.2.${i}:1` });
    lan.registry.add({ type: 'T', name: 'bye', addr: '10.0.3.1:1', state: 'gone' });
    const other = state.addListener('other', '224.1.1.2');
    other.registry.add({ type: 'T', name: 'x', addr: '10.0.4.1:1' });
    const { exp } = await scrape(state);
    const names = find(exp, METRICS.serviceUp.name, L).map((s) => s.labels.service_name);
    expect(names.sort()).toEqual(['stale0', 'up0', 'up1']);
    expect(find(exp, METRICS.serviceSeriesDropped.name, L)[0]?.value).toBe(2);
    expect(find(exp, METRICS.serviceUp.name, { listener: 'other' })).toHaveLength(1);
    expect(find(exp, METRICS.serviceSeriesDropped.name, { listener: 'other' })[0]?.value).toBe(0);
  });

  it('passes promtool check metrics with no duplicate series, process metrics included', async () => {
    const { state } = scenario();
    state
      .addListener('second', '239.255.0.1', 6000)
      .registry.add({ type: 'VaultLibrary', name: 'a', addr: '10.0.0.1:8200' });
    const { body, exp } = await scrape(state, true);
    expect(find(exp, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(find(exp, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    // The delay-histogram gauges read the 100 ms sampling interval, not a lag (docs/metrics.md): left out.
    expect(
      exp.samples.filter((s) => /^nodejs_eventloop_lag_(min|max|mean|stddev|p\d+)_seconds$/.test(s.name)),
    ).toEqual([]);
    expect(duplicateSeries(exp)).toEqual([]);
    // prom-client's misnamed nodejs_active_*_total gauges are left out, so the whole body,
    // process metrics included, passes promtool with no finding at all.
    const check = promtoolCheck(body);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
    const own = promtoolCheck((await scrape(state, false)).body);
    expect(own.output).toBe('');
    expect(own.status).toBe(0);
  });

  it('leaves process metrics out when disabled', async () => {
    const { exp } = await scrape(scenario().state, false);
    expect(exp.samples.filter((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'))).toEqual(
      [],
    );
  });

  it('keeps hostile service strings intact and the exposition valid', async () => {
    const state = new FakeState();
    const lan = state.addListener('la"n\\\n');
    const hostile = [
      'nul\u0000byte',
      '\u001b[31mred\u001b[0m',
      'quote" back\\slash',
      'new\nline\r\ttab',
      'lone \ud800 surrogate',
      'low \udc00 first',
      '}{"=,',
      '__proto__',
      '😀 emoji',
    ];
    hostile.forEach((name, i) => {
      lan.registry.add({ type: name, name, addr: `${name}:${i}`, version: name, ageSeconds: i });
    });
    lan.stats.socketErrors = { 'E"\n\\': 1 };
    const { body, exp } = await scrape(state, false);
    const check = promtoolCheck(body);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
    expect(duplicateSeries(exp)).toEqual([]);
    const exported = find(exp, METRICS.serviceInfo.name).map((s) => s.labels);
    const expected = [...hostile];
    // Controls other than newline are shown as control pictures: a terminal running `curl` must not obey them.
    expected[0] = 'nul\u2400byte';
    expected[1] = '\u241b[31mred\u241b[0m';
    expected[3] = 'new\nline\u240d\u2409tab';
    expected[4] = 'lone \ufffd surrogate';
    expected[5] = 'low \ufffd first';
    expect(exported.map((l) => l.service_name)).toEqual(expected);
    expect(exported.map((l) => l.version)).toEqual(expected);
    expect(exported.every((l) => l.listener === 'la"n\\\n')).toBe(true);
  });

  it('never resets counters on a scrape and reads new totals each time', async () => {
    const { state, lan } = scenario();
    const handler = createMetricsHandler(state, { processMetrics: false });
    await handler.render();
    lan.stats.packetsReceived += 5;
    const exp = parseExposition(await handler.render());
    expect(find(exp, METRICS.receivedPackets.name, L)[0]?.value).toBe(17);
    expect(handler.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('follows a service that changes its name or version in place, leaving no old label set behind', async () => {
    const state = new FakeState();
    const rec = state
      .addListener('lan')
      .registry.add({ type: 'T', name: 'old', addr: '10.0.0.1:1', version: '1' });
    const handler = createMetricsHandler(state, { processMetrics: false });
    await handler.render();
    rec.name = 'new';
    rec.version = '2';
    const exp = parseExposition(await handler.render());
    expect(find(exp, METRICS.serviceInfo.name).map((s) => [s.labels.service_name, s.labels.version])).toEqual(
      [['new', '2']],
    );
    expect(find(exp, METRICS.serviceUp.name).map((s) => s.labels.service_name)).toEqual(['new']);
  });

  it('renders the same body as bytes, hostile strings included', async () => {
    const { state, lan } = scenario();
    lan.registry.add({ type: 'T', name: 'é \u0000 😀 \ud800 "\n', addr: '10.0.0.9:1', version: 'ü' });
    const handler = createMetricsHandler(state, { processMetrics: false });
    const text = await handler.render();
    const bytes = await handler.renderBuffer();
    expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(promtoolCheck(text).status).toBe(0);
    expect(
      find(parseExposition(text), METRICS.serviceInfo.name, { version: 'ü' })[0]?.labels.service_name,
    ).toBe('é \u2400 😀 \ufffd "\n');
  });

  it('exports a service forgotten and learned again during a scrape once, not twice', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    for (let i = 0; i < 3000; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.3.${i >> 8}.${i & 255}:1` });
    const loop = countTurns((turn) => {
      // After the first slices walked past it, the first service leaves and comes back (a new record, last
      // in the registry's order), so a walk that yields meets its key a second time.
      if (turn === 2) {
        lan.registry.records.delete('T\u000010.3.0.0:1');
        lan.registry.add({ type: 'T', name: 's0', addr: '10.3.0.0:1' });
      }
    });
    const body = await renderServiceSeries(state, { yieldEvery: 500 });
    loop.stop();
    expect(loop.turns()).toBeGreaterThan(2);
    const exp = parseExposition(body);
    expect(duplicateSeries(exp)).toEqual([]);
    expect(find(exp, METRICS.serviceUp.name, { address: '10.3.0.0:1' })).toHaveLength(1);
    expect(promtoolCheck(body).status).toBe(0);
  });

  it('lets other work run while it serializes many services, and stays valid if the registry changes meanwhile', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    for (let i = 0; i < 5000; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.2.${i >> 8}.${i & 255}:1` });
    const handler = createMetricsHandler(state, { processMetrics: false, yieldEvery: 1000 });
    const loop = countTurns((turn) => {
      // A datagram arriving mid-scrape: the registry forgets a service and learns a new one.
      if (turn === 2) {
        lan.registry.records.delete('T\u000010.2.19.135:1');
        lan.registry.add({ type: 'T', name: 'late', addr: '10.9.9.9:1' });
      }
    });
    // The per-service part alone (no /proc reads or prom-client awaits): it must still give way.
    const series = await renderServiceSeries(state, { yieldEvery: 1000 });
    expect(loop.turns()).toBeGreaterThanOrEqual(4);
    expect(promtoolCheck(series).status).toBe(0);
    const [a, b] = await Promise.all([handler.render(), handler.render()]);
    loop.stop();
    for (const body of [a, b]) {
      const exp = parseExposition(body);
      expect(duplicateSeries(exp)).toEqual([]);
      expect(promtoolCheck(body).status).toBe(0);
      expect(find(exp, METRICS.serviceUp.name).length).toBeGreaterThanOrEqual(4999);
    }
  });

  it('gives the loop back every slice even when the socket drains within the same turn', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    for (let i = 0; i < 20_000; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.4.${i >> 8}.${i & 255}:1` });
    const loop = countTurns();
    // A loopback socket that takes every chunk: write() says "wait", and 'drain' comes in a nextTick. Waiting
    // for it is not a turn of the loop, so it must not count as one.
    const body = await collectBody((sink) =>
      writeServiceSeries(
        state,
        (chunk, written) => {
          sink(chunk, written);
          return new Promise<void>((r) => process.nextTick(r));
        },
        { sliceMs: 1 },
      ),
    );
    loop.stop();
    expect(body.length).toBeGreaterThan(20 * 64 * 1024);
    expect(loop.turns()).toBeGreaterThanOrEqual(3);
  });

  it('keeps one slice budget across the whole body: no turn walks more services than one slice takes', async () => {
    const { state, lan } = withheldTargets(1500);
    // Services the walks (withheld SD targets, then the selection for the series) take from the registry, per turn.
    let walked = 0;
    const perTurn: number[] = [];
    const services = lan.registry.services.bind(lan.registry);
    lan.registry.services = function* () {
      for (const rec of services()) {
        walked++;
        yield rec;
      }
    };
    const loop = countTurns(() => {
      perTurn.push(walked);
      walked = 0;
    });
    const handler = createMetricsHandler(state, { processMetrics: false, yieldEvery: 1000 });
    await handler.render();
    loop.stop();
    perTurn.push(walked);
    // The end of one walk and the start of the next shared a turn when each part had a slicer of its own:
    // 500 + 1,000 services in one go.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(1000);
    expect(perTurn.reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it('counts withheld SD targets in slices, not in one walk of every service', async () => {
    const { state } = withheldTargets(3000);
    const loop = countTurns();
    const samples = await SAMPLE_READERS.sdTargetsWithheld(state, new TimeSlicer({ yieldEvery: 500 }));
    loop.stop();
    expect(samples).toEqual([{ labels: {}, value: 3000 }]);
    expect(loop.turns()).toBeGreaterThanOrEqual(5);
  });

  it('serves a body of many reused chunks intact over HTTP, to a slow reader and through gzip', async () => {
    const state = new FakeState();
    const lan = state.addListener('lan');
    for (let i = 0; i < 5000; i++)
      lan.registry.add({ type: 'T', name: `s${i}`, addr: `10.2.${i >> 8}.${i & 255}:1`, version: `v${i}` });
    const handler = createMetricsHandler(state, { processMetrics: false });
    const expected = await handler.render();
    expect(expected.length).toBeGreaterThan(8 * 64 * 1024);
    const server = createServer((req, res) => void serveMetrics(req, res, handler));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    // A client that stops reading now and then: the socket backs up, and chunks are given back only once written.
    const get = (headers: Record<string, string>) =>
      new Promise<string>((done, fail) => {
        const req = request({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            if (chunks.length % 4 === 0) {
              res.pause();
              setTimeout(() => res.resume(), 5);
            }
          });
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            done((res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
          });
          res.on('error', fail);
        });
        req.on('error', fail);
        req.end();
      });
    try {
      const [plain, zipped, again] = await Promise.all([
        get({}),
        get({ 'accept-encoding': 'gzip' }),
        get({}),
      ]);
      for (const body of [plain, zipped, again]) expect(body).toBe(expected);
    } finally {
      server.close();
    }
  });
});

describe('build_info revision', () => {
  const version = resolve(import.meta.dirname, '../../dist/src/metrics/version.js');
  const revisionOf = (env: NodeJS.ProcessEnv) =>
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `console.log((await import('${version}')).REVISION)`],
      {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      },
    ).trim();

  it.skipIf(!existsSync(version))(
    'is the commit `npm run build` stamped, or the image build argument',
    () => {
      const stamped = resolve(import.meta.dirname, '../../dist/REVISION');
      const expected = existsSync(stamped) ? readFileSync(stamped, 'utf8').trim() : 'unknown';
      expect(revisionOf({})).toBe(expected);
      expect(revisionOf({ VAULT_MULTICAST_REVISION: 'abc123' })).toBe('abc123');
    },
  );
});
