/**
 * The agent process: the listeners and publishers of one configuration, the HTTP server and the OTLP export,
 * started together, reloaded by difference and stopped in the order that lets peers notice (goodbyes first).
 *
 * Reload by difference, losing nothing the change does not force: a listener is never rebuilt by a reload —
 * changed settings (security included) are applied to the running listener, which keeps its registry,
 * counters and sequence tracking, and a new group or port is joined before the old one closes. A publisher
 * takes a new message and a new signing key in place; one whose socket settings changed restarts with its
 * counters carried over. Removed ones close (publishers say goodbye) and added ones start. A configuration
 * that fails to load leaves the running one in place; a part that fails to apply keeps its previous settings
 * and fails the reload. Reloads are serialized, and requests that arrive while one runs collapse into a
 * single follow-up, so a burst of SIGHUPs costs at most two reloads.
 */
import { EventEmitter } from 'node:events';
import { VaultMultiListener } from '../discovery/listener.js';
import type { ListenerSettings } from '../discovery/listener-types.js';
import { VaultMultiPublisher } from '../discovery/publisher.js';
import { createReceiveGuards, createSigner, ReplayCache } from '../discovery/security/index.js';
import type { AnnouncementSigner, PublisherStats } from '../discovery/types.js';
import type { OtlpExport } from '../metrics/otlp.js';
import { createMetricsHandler, type MetricsHandler } from '../metrics/prometheus.js';
import { prepareServiceLabels } from '../metrics/service-series.js';
import { VERSION } from '../metrics/version.js';
import type { StatusView } from './api-types.js';
import { diffConfig } from './config/diff.js';
import type { AgentConfig, HttpConfig, ListenerConfig, PublisherConfig } from './config/types.js';
import type { AgentEvents, HttpHost, Readiness, ReloadOutcome } from './http/host.js';
import { type HttpServerHandle, startHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import { ExportPreparer } from './runtime/export-preparer.js';
import { Runner } from './runtime/runner.js';
import { wireListener, wirePublisher } from './runtime/wiring.js';
import type { AgentState, ListenerEntry, PublisherEntry, ReloadState } from './state.js';

export type AgentPhase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface AgentOptions {
  logger: Logger;
  /** Where reloads (SIGHUP, POST /-/reload) read the configuration from. */
  loadConfig?: () => Promise<AgentConfig>;
  /** Directory of the web page (index.html, app.js, style.css); default dist/web of the package. */
  webRoot?: string;
  /** Start the HTTP server (default true; tests of the runtime alone may turn it off). */
  http?: boolean;
}

interface ManagedListener {
  entry: ListenerEntry;
  runner: Runner<VaultMultiListener>;
  unwire: () => void;
}

interface ManagedPublisher {
  entry: PublisherEntry;
  runner: Runner<VaultMultiPublisher>;
  unwire: () => void;
}

type OtlpHandle = OtlpExport;

const STOP_STEP_MS = 1000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function replayCacheKey(l: ListenerConfig): string {
  return `${l.name}\0${l.group}\0${l.port}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { AgentEvents, Readiness, ReloadOutcome } from './http/host.js';

export class Agent implements AgentState, HttpHost {
  readonly version = VERSION;
  readonly startedWallMs = Date.now();
  readonly reload: ReloadState = { lastSuccess: false, lastSuccessWallMs: 0, successes: 0, failures: 0 };
  readonly log: Logger;
  private cfg: AgentConfig | undefined;
  private phaseValue: AgentPhase = 'idle';
  private readonly listenerMap = new Map<string, ManagedListener>();
  private readonly publisherMap = new Map<string, ManagedPublisher>();
  private httpServer: HttpServerHandle | undefined;
  private otlp: OtlpHandle | undefined;
  private metricsHandler: MetricsHandler | undefined;
  /** Encodes each new service's exported bytes when the receive path has nothing waiting. */
  private readonly preparer = new ExportPreparer(
    () => {
      for (const { entry } of this.listenerMap.values())
        if (entry.listener.receiveQueue.held > 0) return true;
      return false;
    },
    (rec) => {
      prepareServiceLabels(rec);
      this.otlp?.prepare(rec);
    },
  );
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private applyChain: Promise<unknown> = Promise.resolve();
  private reloadRunning: Promise<ReloadOutcome> | undefined;
  private reloadQueued: Promise<ReloadOutcome> | undefined;

  /** HTTP connections and requests refused by a hardening limit, by reason (the metric's source of truth). */
  readonly httpRejected: Record<string, number> = {};

  /** `service` (listener name, event, record) and `reloaded`: what the event stream forwards to the page. */
  readonly events = new EventEmitter<AgentEvents>();

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.logger;
    // One handler per HTTP server (two briefly while a reload moves the address); no leak to warn about.
    this.events.setMaxListeners(0);
  }

  countHttpRejection(reason: string): void {
    this.httpRejected[reason] = (this.httpRejected[reason] ?? 0) + 1;
  }

  get phase(): AgentPhase {
    return this.phaseValue;
  }

  get config(): AgentConfig | undefined {
    return this.cfg;
  }

  get maxServiceSeries(): number {
    return this.cfg?.metrics.maxServiceSeries ?? 10_000;
  }

  get sdAllowedTargets(): readonly string[] {
    return this.cfg?.sd?.allowedTargets ?? [];
  }

  get httpAddress(): { address: string; port: number } | undefined {
    return this.httpServer?.address();
  }

  listeners(): Iterable<ListenerEntry> {
    return [...this.listenerMap.values()].map((m) => m.entry);
  }

  publishers(): Iterable<PublisherEntry> {
    return [...this.publisherMap.values()].map((m) => m.entry);
  }

  listenerEntry(name: string): ListenerEntry | undefined {
    return this.listenerMap.get(name)?.entry;
  }

  publisherEntry(name: string): PublisherEntry | undefined {
    return this.publisherMap.get(name)?.entry;
  }

  metrics(): MetricsHandler {
    if (!this.metricsHandler) throw new Error('agent not started');
    return this.metricsHandler;
  }

  adminMode(): StatusView['admin'] {
    const http = this.cfg?.http;
    if (!http?.enableAdmin) return 'disabled';
    const auth = http.auth;
    if (auth?.token !== undefined && auth.basic !== undefined) return 'token+basic';
    if (auth?.token !== undefined) return 'token';
    if (auth?.basic !== undefined) return 'basic';
    return 'open';
  }

  /**
   * Ready: configuration loaded, every listener and publisher has its socket, and at least one group membership
   * is held or one publisher runs. A listener still retrying its bind keeps the agent unready, with its name.
   */
  readiness(): Readiness {
    if (this.phaseValue !== 'running') return { ready: false, reason: `agent is ${this.phaseValue}` };
    let joined = false;
    for (const { entry, runner } of this.listenerMap.values()) {
      if (!runner.running) return { ready: false, reason: `listener ${entry.name} is not bound` };
      if (!joined) joined = entry.listener.memberships().some((m) => m.joined);
    }
    for (const { entry, runner } of this.publisherMap.values()) {
      if (!runner.running) return { ready: false, reason: `publisher ${entry.name} is not running` };
    }
    if (joined || this.publisherMap.size > 0) return { ready: true };
    return { ready: false, reason: 'no group membership joined and no publisher running' };
  }

  start(config: AgentConfig): Promise<void> {
    if (this.startPromise) throw new Error('agent already started');
    this.startPromise = this.doStart(config);
    return this.startPromise;
  }

  private async doStart(config: AgentConfig): Promise<void> {
    this.phaseValue = 'starting';
    this.cfg = config;
    this.log.level = config.log.level;
    this.logConfigWarnings(config);
    this.metricsHandler = createMetricsHandler(this, { processMetrics: config.metrics.processMetrics });
    if (this.opts.http !== false) {
      this.httpServer = await startHttpServer(this, config.http, { webRoot: this.opts.webRoot });
      const addr = this.httpServer.address();
      this.log.info(
        { address: addr.address, port: addr.port, tls: config.http.tls !== undefined },
        'http listening',
      );
    }
    // A stop that gave up waiting for this start has already cleaned up: close what was opened since.
    if (this.stopRequested()) {
      await this.httpServer?.close();
      return;
    }
    // Before the sockets open: loading the OpenTelemetry SDK holds the loop for a few hundred milliseconds,
    // which at 100,000 announcements/s would overflow a receive buffer (a failure is logged by startOtlp).
    if (config.metrics.otlp) await this.loadOtlp();
    await Promise.all([
      ...config.listeners.map((l) => this.startListener(l, config)),
      ...config.publishers.map((p) => this.startPublisher(p, config)),
    ]);
    if (this.stopRequested()) return;
    const otlp = await this.startOtlp(config);
    if (this.stopRequested()) {
      await otlp?.shutdown().catch(() => undefined);
      return;
    }
    this.otlp = otlp;
    this.reload.lastSuccess = true;
    this.reload.lastSuccessWallMs = Date.now();
    this.phaseValue = 'running';
    this.log.info(
      { listeners: config.listeners.length, publishers: config.publishers.length, version: this.version },
      'agent started',
    );
  }

  private stopRequested(): boolean {
    return this.stopPromise !== undefined;
  }

  private async loadOtlp(): Promise<void> {
    try {
      await (await import('../metrics/otlp.js')).loadOtlpPipeline();
    } catch {
      // startOtlp() tries again and logs why it could not.
    }
  }

  /** The OpenTelemetry SDK is loaded only when an export is configured: it costs ~15 MB of RSS. */
  private async startOtlp(config: AgentConfig): Promise<OtlpHandle | undefined> {
    if (!config.metrics.otlp) return undefined;
    try {
      const { startOtlpExport } = await import('../metrics/otlp.js');
      return startOtlpExport(this, config.metrics.otlp);
    } catch (err) {
      this.log.error({ err: errorText(err) }, 'OTLP export could not start');
      return undefined;
    }
  }

  /**
   * One replay cache per listener (by name, group and port) for the life of the process: a reload (a rotated
   * key, any security change) rebuilds the guards, and a fresh cache would accept every recorded announcement
   * again. Not one per group and port: two listeners on the same group and port (on different interfaces)
   * each receive every datagram, and a shared cache would make the second drop it as a replay.
   */
  private readonly replayCaches = new Map<string, ReplayCache>();

  private guardsFor(l: ListenerConfig, config: AgentConfig) {
    const s = config.security;
    const cacheKey = replayCacheKey(l);
    let replayCache = this.replayCaches.get(cacheKey);
    if (replayCache === undefined) {
      replayCache = new ReplayCache();
      this.replayCaches.set(cacheKey, replayCache);
    }
    return createReceiveGuards({
      group: l.group,
      port: l.port,
      signing: {
        mode: s.signing.mode,
        keys: s.signing.keys.map((k) => ({ id: k.id, key: k.key })),
        replayWindowMs: s.signing.replayWindowMs,
        replayCache,
        notBeforeWallMs: this.startedWallMs,
      },
      allowSources: s.allowSources,
      onLinkOnly: s.onLinkOnly,
      rateLimit: s.rateLimit,
      duplicateWindowMs: s.duplicateWindowMs,
    });
  }

  /** A listener's settings; `withGuards` false leaves out the guards, so that a reconfigure keeps their state. */
  private listenerSettings(l: ListenerConfig, config: AgentConfig, withGuards = true): ListenerSettings {
    return {
      group: l.group,
      port: l.port,
      interfaces: l.interfaces,
      bufferSize: l.maxDatagramBytes,
      receiveBufferSize: l.receiveBufferBytes,
      receiveQueue: { maxDatagrams: l.receiveQueueDatagrams },
      serviceTimeout: l.serviceTimeoutMs / 1000,
      retention: l.retentionMs / 1000,
      maxServices: l.maxServices,
      maxRegistryBytes: l.maxRegistryBytes,
      typeFilter: l.typeFilter,
      extensions: l.extensions,
      ...(withGuards ? { guards: this.guardsFor(l, config) } : {}),
    };
  }

  private startListener(l: ListenerConfig, config: AgentConfig): Promise<void> {
    const listener = new VaultMultiListener(this.listenerSettings(l, config));
    const log = this.log.child({ listener: l.name, group: l.group, port: l.port });
    const unwire = wireListener(listener, log, (event, rec) => {
      if (event === 'up') this.preparer.add(rec);
      this.events.emit('service', l.name, event, rec);
    });
    const runner = new Runner('listener', l.name, listener, log);
    this.listenerMap.set(l.name, { entry: { name: l.name, config: l, listener }, runner, unwire });
    return runner.start();
  }

  private signerFor(p: PublisherConfig, config: AgentConfig): AnnouncementSigner | undefined {
    const key = config.security.signing.keys[0];
    return p.sign && key !== undefined
      ? createSigner({ keyId: key.id, key: key.key, group: p.group, port: p.port })
      : undefined;
  }

  private startPublisher(p: PublisherConfig, config: AgentConfig, carry?: PublisherStats): Promise<void> {
    const signer = this.signerFor(p, config);
    const publisher = new VaultMultiPublisher({
      group: p.group,
      port: p.port,
      ttl: p.ttl,
      interval: p.intervalMs / 1000,
      message: p.message,
      interfaces: p.interfaces,
      loopback: p.loopback,
      announceTtl: p.announceTtlMs === undefined ? undefined : p.announceTtlMs / 1000,
      signer,
    });
    const log = this.log.child({ publisher: p.name, group: p.group, port: p.port });
    if (carry) Object.assign(publisher.stats, { ...carry, sendErrors: { ...carry.sendErrors } });
    const unwire = wirePublisher(publisher, log);
    const runner = new Runner('publisher', p.name, publisher, log);
    this.publisherMap.set(p.name, { entry: { name: p.name, config: p, publisher }, runner, unwire });
    return runner.start();
  }

  private async stopListener(name: string): Promise<void> {
    const m = this.listenerMap.get(name);
    if (!m) return;
    this.listenerMap.delete(name);
    await m.runner.stop();
    m.unwire();
  }

  private async stopPublisher(name: string): Promise<void> {
    const m = this.publisherMap.get(name);
    if (!m) return;
    this.publisherMap.delete(name);
    await m.runner.stop();
    m.unwire();
  }

  /** Applies a validated configuration by difference. Rejects (and changes nothing) when it cannot apply it. */
  /**
   * The brief's `reload(config)` (the name `reload` is the reload status of AgentState): applies a validated
   * configuration by difference and records the outcome in the reload metrics. Rejects when it cannot apply
   * it, leaving the running configuration in place.
   */
  applyConfig(next: AgentConfig): Promise<void> {
    const run = this.applyChain
      .then(() => this.doApply(next))
      .then(
        () => this.recordReload(undefined),
        (err: unknown) => {
          this.recordReload(err);
          throw err;
        },
      );
    this.applyChain = run.catch(() => undefined);
    return run;
  }

  private recordReload(err: unknown): void {
    if (err === undefined) {
      this.reload.lastSuccess = true;
      this.reload.lastSuccessWallMs = Date.now();
      this.reload.successes += 1;
      this.log.info('configuration reloaded');
      return;
    }
    this.reload.lastSuccess = false;
    this.reload.failures += 1;
    this.log.error({ err: errorText(err) }, 'reload failed; the previous configuration keeps running');
  }

  private logConfigWarnings(config: AgentConfig): void {
    for (const warning of config.warnings ?? []) this.log.warn({ warning }, 'configuration warning');
  }

  private async doApply(next: AgentConfig): Promise<void> {
    const prev = this.cfg;
    if (this.phaseValue !== 'running' || prev === undefined) throw new Error(`agent is ${this.phaseValue}`);
    this.logConfigWarnings(next);
    const diff = diffConfig(prev, next);

    // The HTTP side first: a new address that cannot be bound fails the reload before anything else changed.
    let oldServer: HttpServerHandle | undefined;
    if (this.httpServer && httpNeedsRebind(prev.http, next.http)) {
      const fresh = await startHttpServer(this, next.http, { webRoot: this.opts.webRoot });
      oldServer = this.httpServer;
      this.httpServer = fresh;
    } else if (diff.http) this.httpServer?.configure(next.http);

    // Publishers whose socket settings changed restart; listeners are never restarted by a reload.
    const publisherRestart = new Set<string>([...diff.publishers.removed, ...diff.publishers.added]);
    const nextListeners = new Map(next.listeners.map((l) => [l.name, l]));
    const nextPublishers = new Map(next.publishers.map((p) => [p.name, p]));
    // A restarted publisher continues its counters, so they never go backwards in Prometheus.
    const carried = new Map<string, PublisherStats>();
    for (const [name, m] of this.publisherMap)
      if (nextPublishers.has(name)) carried.set(name, m.entry.publisher.stats);

    // Close first so that a listener moved to another name can take over its port.
    await Promise.all([
      ...[...this.publisherMap.keys()]
        .filter((n) => publisherRestart.has(n) || !nextPublishers.has(n))
        .map((n) => this.stopPublisher(n)),
      ...[...this.listenerMap.keys()].filter((n) => !nextListeners.has(n)).map((n) => this.stopListener(n)),
    ]);

    // What could not be applied keeps its previous configuration, so the next reload tries it again.
    const kept = new Map<string, ListenerConfig | PublisherConfig>();
    const errors: string[] = [];
    const changedListeners = new Set(diff.listeners.changed);
    await Promise.all(
      [...this.listenerMap].map(async ([name, m]) => {
        const lc = nextListeners.get(name);
        if (!lc) return;
        try {
          if (changedListeners.has(name)) {
            const ownGuards =
              diff.security || lc.group !== m.entry.config.group || lc.port !== m.entry.config.port;
            await m.entry.listener.reconfigure(this.listenerSettings(lc, next, ownGuards));
          }
          this.listenerMap.set(name, { ...m, entry: { ...m.entry, config: lc } });
        } catch (err) {
          kept.set(`listener ${name}`, m.entry.config);
          errors.push(`listener ${name}: ${errorText(err)}`);
        }
      }),
    );
    const messageOnly = new Set(diff.publishers.messageOnly);
    for (const [name, m] of this.publisherMap) {
      const pc = nextPublishers.get(name);
      if (!pc) continue;
      try {
        if (messageOnly.has(name)) m.entry.publisher.updateMessage(pc.message);
        if (diff.security) m.entry.publisher.updateSigner(this.signerFor(pc, next));
        this.publisherMap.set(name, { ...m, entry: { ...m.entry, config: pc } });
      } catch (err) {
        kept.set(`publisher ${name}`, m.entry.config);
        errors.push(`publisher ${name}: ${errorText(err)}`);
      }
    }
    this.cfg = {
      ...next,
      listeners: next.listeners.map((l) => (kept.get(`listener ${l.name}`) as ListenerConfig) ?? l),
      publishers: next.publishers.map((p) => (kept.get(`publisher ${p.name}`) as PublisherConfig) ?? p),
    };
    // The replay memory of a listener that is gone (or moved to another group or port) has nothing left to guard.
    const live = new Set(this.cfg.listeners.map(replayCacheKey));
    for (const key of this.replayCaches.keys()) if (!live.has(key)) this.replayCaches.delete(key);

    await Promise.all([
      ...next.listeners.filter((l) => !this.listenerMap.has(l.name)).map((l) => this.startListener(l, next)),
      ...next.publishers
        .filter((p) => !this.publisherMap.has(p.name))
        .map((p) => this.startPublisher(p, next, carried.get(p.name))),
    ]);

    if (diff.log) this.log.level = next.log.level;
    if (diff.metrics) {
      if (prev.metrics.processMetrics !== next.metrics.processMetrics) {
        this.metricsHandler = createMetricsHandler(this, { processMetrics: next.metrics.processMetrics });
      }
      if (JSON.stringify(prev.metrics.otlp) !== JSON.stringify(next.metrics.otlp)) {
        const old = this.otlp;
        this.otlp = undefined;
        if (old) await withTimeout(old.shutdown(), STOP_STEP_MS).catch(() => undefined);
        this.otlp = await this.startOtlp(next);
      }
    }
    // Not awaited: a POST /-/reload that moved the address is still waiting for its answer on the old server,
    // which close() lets finish before it ends the connection.
    if (oldServer) {
      const addr = oldServer.address();
      void oldServer.close().then(() => this.log.info(addr, 'previous http address closed'));
    }
    this.log.info(
      {
        listenersAdded: diff.listeners.added.length,
        listenersRemoved: diff.listeners.removed.length,
        publishersAdded: diff.publishers.added.length,
        publishersRemoved: diff.publishers.removed.length,
        listenersReconfigured: diff.listeners.changed.length,
        messagesUpdated: diff.publishers.messageOnly.length,
      },
      'configuration applied',
    );
    this.events.emit('reloaded');
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  /**
   * Loads the configuration again and applies it. Requests made while a reload runs share one follow-up
   * reload, so bursts collapse. Never rejects: the outcome says whether it worked.
   */
  requestReload(): Promise<ReloadOutcome> {
    if (this.reloadQueued) return this.reloadQueued;
    if (this.reloadRunning) {
      const queued = this.reloadRunning.then(() => {
        this.reloadQueued = undefined;
        return this.runReload();
      });
      this.reloadQueued = queued;
      return queued;
    }
    return this.runReload();
  }

  private runReload(): Promise<ReloadOutcome> {
    const run = (async (): Promise<ReloadOutcome> => {
      let next: AgentConfig;
      try {
        if (!this.opts.loadConfig) throw new Error('no configuration file to reload from');
        next = await this.opts.loadConfig();
      } catch (err) {
        this.recordReload(err);
        return { ok: false, error: errorText(err) };
      }
      try {
        await this.applyConfig(next);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: errorText(err) };
      }
    })();
    const tracked = run.finally(() => {
      if (this.reloadRunning === tracked) this.reloadRunning = undefined;
    });
    this.reloadRunning = tracked;
    return tracked;
  }

  /**
   * Readiness goes to 503 at once; publishers send their goodbyes; sockets close; the OTLP export flushes;
   * the HTTP server closes last so that probes see the 503 while the rest shuts down.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    const wasPhase = this.phaseValue;
    this.phaseValue = 'stopping';
    this.log.info({ from: wasPhase }, 'agent stopping');
    if (this.startPromise)
      await withTimeout(
        this.startPromise.catch(() => undefined),
        STOP_STEP_MS,
      );
    this.phaseValue = 'stopping';
    await withTimeout(this.applyChain, STOP_STEP_MS);
    await withTimeout(
      Promise.all([...this.publisherMap.keys()].map((n) => this.stopPublisher(n))),
      STOP_STEP_MS,
    );
    await withTimeout(
      Promise.all([...this.listenerMap.keys()].map((n) => this.stopListener(n))),
      STOP_STEP_MS,
    );
    this.preparer.stop();
    if (this.otlp)
      await withTimeout(
        this.otlp.shutdown().catch(() => undefined),
        STOP_STEP_MS,
      );
    this.otlp = undefined;
    if (this.httpServer) await withTimeout(this.httpServer.close(), STOP_STEP_MS);
    this.httpServer = undefined;
    this.phaseValue = 'stopped';
    this.log.info('agent stopped');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A new address, or TLS switched on or off; a renewed certificate is applied to the running server. */
function httpNeedsRebind(a: HttpConfig, b: HttpConfig): boolean {
  return a.listen !== b.listen || (a.tls === undefined) !== (b.tls === undefined);
}
