/**
 * Connects a listener's and a publisher's events to the agent's logs. Everything that can happen at packet
 * rate is rate-limited: per-packet drops only at debug level, socket problems once per interval with a count,
 * service churn (a flood of new names) at most a few lines per interval.
 */
import type { EventEmitter } from 'node:events';
import type { VaultMultiListener } from '../../discovery/listener.js';
import type { VaultMultiPublisher } from '../../discovery/publisher.js';
import type { ServiceConflict, ServiceRecord, SocketProblem } from '../../discovery/types.js';
import { type Logger, RateLimitedLog } from '../logger.js';

export type ServiceEventName = 'up' | 'update' | 'down' | 'removed';
export type ServiceEventSink = (event: ServiceEventName, rec: ServiceRecord, reason?: string) => void;

type Handler = (...args: never[]) => void;

function sourceAddress(source: unknown): unknown {
  if (source !== null && typeof source === 'object' && 'address' in source) {
    return (source as { address: unknown }).address;
  }
  return source;
}

function serviceFields(rec: ServiceRecord): Record<string, unknown> {
  return { service_type: rec.type, service_name: rec.name, address: rec.addr, source: rec.source };
}

/**
 * Attaches `handlers` plus the socketError/warning logging both kinds share. Returns the detach function,
 * which also flushes the pending counts of the rate-limited logs.
 */
function attach(
  target: EventEmitter,
  kind: 'listener' | 'publisher',
  errors: RateLimitedLog,
  handlers: [string, Handler][],
  logs: RateLimitedLog[],
): () => void {
  const onSocketError = (p: SocketProblem) =>
    errors.log(
      'warn',
      `socket:${p.operation}:${p.code}:${p.interface ?? ''}`,
      {
        operation: p.operation,
        code: p.code,
        interface: p.interface,
        retryInMs: p.retryInMs,
        err: p.message,
      },
      'socket problem',
    );
  const onWarning = (message: unknown) =>
    errors.log(
      'warn',
      `warning:${String(message).slice(0, 80)}`,
      { warning: String(message) },
      `${kind} warning`,
    );
  const all: [string, Handler][] = [['socketError', onSocketError], ['warning', onWarning], ...handlers];
  for (const [ev, fn] of all) target.on(ev, fn as (...args: unknown[]) => void);
  return () => {
    for (const [ev, fn] of all) target.off(ev, fn as (...args: unknown[]) => void);
    for (const l of logs) l.close();
  };
}

export function wireListener(listener: VaultMultiListener, log: Logger, sink: ServiceEventSink): () => void {
  const errors = new RateLimitedLog(log);
  const churn = new RateLimitedLog(log, { burst: 20 });
  const handlers: [string, Handler][] = [
    [
      'drop',
      (reason: unknown, source: unknown, detail: unknown) =>
        churn.log(
          'debug',
          `drop:${String(reason)}`,
          { reason, source: sourceAddress(source), detail },
          'datagram dropped',
        ),
    ],
    [
      'conflict',
      (c: ServiceConflict) =>
        errors.log(
          'warn',
          'conflict',
          { service_type: c.type, service_name: c.name, existing: c.existingAddr, address: c.addr },
          'two addresses claim one service',
        ),
    ],
    [
      'up',
      (rec: ServiceRecord) => {
        churn.log('info', 'up', serviceFields(rec), 'service up');
        sink('up', rec);
      },
    ],
    ['update', (rec: ServiceRecord) => sink('update', rec)],
    [
      'down',
      (rec: ServiceRecord, reason: unknown) => {
        churn.log('info', `down:${String(reason)}`, { ...serviceFields(rec), reason }, 'service down');
        sink('down', rec, String(reason));
      },
    ],
    [
      'removed',
      (rec: ServiceRecord) => {
        churn.log('debug', 'removed', serviceFields(rec), 'service forgotten');
        sink('removed', rec);
      },
    ],
  ];
  return attach(listener as unknown as EventEmitter, 'listener', errors, handlers, [errors, churn]);
}

export function wirePublisher(publisher: VaultMultiPublisher, log: Logger): () => void {
  const errors = new RateLimitedLog(log);
  return attach(publisher as unknown as EventEmitter, 'publisher', errors, [], [errors]);
}
