/**
 * The live connection to the agent (Server-Sent Events). EventSource reconnects by itself after a dropped
 * connection; it gives up only when a reconnect attempt gets a non-stream answer, and it cannot notice a
 * connection that silently died. This wrapper covers both: it opens a new EventSource when the old one is
 * closed for good, and when no event arrived for a while (the agent sends metrics every second).
 */
import type { EventStreamMap } from '../agent/api-types.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface StreamHandlers {
  snapshot(data: EventStreamMap['snapshot']): void;
  service(data: EventStreamMap['service']): void;
  metrics(data: EventStreamMap['metrics']): void;
  state(state: ConnectionState): void;
}

/** No event for this long means the connection is dead even if the socket says otherwise. */
const SILENCE_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;

export function connectStream(url: string, handlers: StreamHandlers): { close(): void } {
  let source: EventSource | undefined;
  let lastEventAt = Date.now();
  let backoffMs = 1000;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const onEvent = <K extends keyof EventStreamMap>(handle: (data: EventStreamMap[K]) => void) => {
    return (ev: Event) => {
      lastEventAt = Date.now();
      let data: EventStreamMap[K];
      try {
        data = JSON.parse((ev as MessageEvent<string>).data) as EventStreamMap[K];
      } catch {
        return;
      }
      handle(data);
    };
  };

  const open = () => {
    if (closed) return;
    lastEventAt = Date.now();
    const es = new EventSource(url);
    source = es;
    es.addEventListener('open', () => {
      backoffMs = 1000;
    });
    es.addEventListener(
      'snapshot',
      onEvent<'snapshot'>((data) => {
        handlers.snapshot(data);
        handlers.state('open');
      }),
    );
    es.addEventListener('service', onEvent<'service'>(handlers.service));
    es.addEventListener('metrics', onEvent<'metrics'>(handlers.metrics));
    es.addEventListener('error', () => {
      if (source !== es) return;
      handlers.state('reconnecting');
      if (es.readyState === EventSource.CLOSED) restart();
    });
  };

  const restart = () => {
    source?.close();
    source = undefined;
    if (retryTimer !== undefined || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      open();
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  };

  const watchdog = setInterval(() => {
    if (source && Date.now() - lastEventAt > SILENCE_MS) {
      handlers.state('reconnecting');
      restart();
    }
  }, 1000);

  handlers.state('connecting');
  open();
  return {
    close() {
      closed = true;
      clearInterval(watchdog);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      source?.close();
    },
  };
}
