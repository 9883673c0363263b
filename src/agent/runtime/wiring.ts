/**
 * Connects a listener's and a publisher's events to the agent's logs. Everything that can happen at packet
 * rate is rate-limited: per-packet drops only at debug level, socket problems once per interval with a count,
 * service churn (a flood of new names) at most a few lines per interval.
 */
import type { EventEmitter } from 'node:events';
import type { VaultMultiListener } from '../../listener.js';
import type { VaultMultiPublisher } from '../../publisher.js';
import type { ServiceConflict, ServiceRecord, SocketProblem } from '../../types.js';
import { type Logger, RateLimitedLog } from '../logger.js';

export type ServiceEventName = 'up' | 'update' | 'down' | 'removed';
export type ServiceEventSink = (event: ServiceEventName, rec: ServiceRecord, reason?: string) => void;

function problemFields(p: SocketProblem): Record<string, unknown> {
  return {
    operation: p.operation,
    code: p.code,
    interface: p.interface,
    retryInMs: p.retryInMs,
    err: p.message,
  };
}

function sourceAddress(source: unknown): unknown {
  if (source !== null && typeof source === 'object' && 'address' in source) {
    return (source as { address: unknown }).address;
  }
  return source;
}

function serviceFields(rec: ServiceRecord): Record<string, unknown> {
  return { service_type: rec.type, service_name: rec.name, address: rec.addr, source: rec.source };
}

/** Returns a function that detaches the log handlers and flushes pending counts. */
export function wireListener(listener: VaultMultiListener, log: Logger, sink: ServiceEventSink): () => void {
  const errors = new RateLimitedLog(log);
  const churn = new RateLimitedLog(log, { burst: 20 });
  const onSocketError = (p: SocketProblem) =>
    errors.log(
      'warn',
      `socket:${p.operation}:${p.code}:${p.interface ?? ''}`,
      problemFields(p),
      'socket problem',
    );
  const onWarning = (message: unknown) =>
    errors.log(
      'warn',
      `warning:${String(message).slice(0, 80)}`,
      { warning: String(message) },
      'listener warning',
    );
  const onDrop = (reason: unknown, source: unknown, detail: unknown) =>
    churn.log(
      'debug',
      `drop:${String(reason)}`,
      { reason, source: sourceAddress(source), detail },
      'datagram dropped',
    );
  const onConflict = (c: ServiceConflict) =>
    errors.log(
      'warn',
      'conflict',
      { service_type: c.type, service_name: c.name, existing: c.existingAddr, address: c.addr },
      'two addresses claim one service',
    );
  const onUp = (rec: ServiceRecord) => {
    churn.log('info', 'up', serviceFields(rec), 'service up');
    sink('up', rec);
  };
  const onUpdate = (rec: ServiceRecord) => sink('update', rec);
  const onDown = (rec: ServiceRecord, reason: unknown) => {
    churn.log('info', `down:${String(reason)}`, { ...serviceFields(rec), reason }, 'service down');
    sink('down', rec, String(reason));
  };
  const onRemoved = (rec: ServiceRecord) => {
    churn.log('debug', 'removed', serviceFields(rec), 'service forgotten');
    sink('removed', rec);
  };
  const handlers: [string, (...args: never[]) => void][] = [
    ['socketError', onSocketError],
    ['warning', onWarning],
    ['drop', onDrop],
    ['conflict', onConflict],
    ['up', onUp],
    ['update', onUpdate],
    ['down', onDown],
    ['removed', onRemoved],
  ];
  const emitter = listener as unknown as EventEmitter;
  for (const [ev, fn] of handlers) emitter.on(ev, fn as (...args: unknown[]) => void);
  return () => {
    for (const [ev, fn] of handlers) emitter.off(ev, fn as (...args: unknown[]) => void);
    errors.close();
    churn.close();
  };
}

export function wirePublisher(publisher: VaultMultiPublisher, log: Logger): () => void {
  const errors = new RateLimitedLog(log);
  const onSocketError = (p: SocketProblem) =>
    errors.log(
      'warn',
      `socket:${p.operation}:${p.code}:${p.interface ?? ''}`,
      problemFields(p),
      'socket problem',
    );
  const onWarning = (message: unknown) =>
    errors.log(
      'warn',
      `warning:${String(message).slice(0, 80)}`,
      { warning: String(message) },
      'publisher warning',
    );
  publisher.on('socketError', onSocketError);
  publisher.on('warning', onWarning);
  return () => {
    publisher.off('socketError', onSocketError);
    publisher.off('warning', onWarning);
    errors.close();
  };
}
