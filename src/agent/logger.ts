/**
 * Structured logs: pino JSON lines on stdout. pino escapes every string value, so text from the network
 * (service names, error messages quoting payloads) can never break a line or inject escape sequences — never
 * log such text with console.*.
 *
 * Things that can repeat at packet rate (socket errors, drops, service churn under a flood) go through
 * RateLimitedLog: the first occurrences of a kind are logged, the rest only counted, and one summary line with
 * the count closes each interval.
 */
import { writeSync } from 'node:fs';
import pino, { type Level, type Logger } from 'pino';
import { visibleText } from '../metrics/visible.js';
import { defaultLogFormat, formatLine, type LogFormat } from './log-format.js';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** json, logfmt or pretty; default pretty when writing to stdout and it is a terminal, json otherwise. */
  format?: LogFormat | undefined;
  /** Where to write; default stdout (fd 1), written synchronously so that nothing is lost at exit. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const format = opts.format ?? (opts.destination ? 'json' : defaultLogFormat(process.stdout.isTTY));
  const out = opts.destination;
  const destination: pino.DestinationStream =
    format === 'json'
      ? (out ?? pino.destination({ dest: 1, sync: true }))
      : {
          write: (line: string) => {
            const text = formatLine(line, format);
            if (out) out.write(text);
            else writeSync(1, text);
          },
        };
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // JSON escapes C0 controls but not C1 or bidi overrides, which a terminal running `jq -r` would obey.
        log: (obj) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj)) out[k] = typeof v === 'string' ? visibleText(v) : v;
          return out;
        },
      },
      hooks: {
        logMethod(args, method) {
          const i = typeof args[0] === 'string' ? 0 : 1;
          if (typeof args[i] === 'string') args[i] = visibleText(args[i] as string);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

interface KeyState {
  windowStartMs: number;
  emitted: number;
  suppressed: number;
  level: Level;
  msg: string;
  obj: Record<string, unknown>;
  lastMs: number;
}

export interface RateLimitOptions {
  /** Length of a window, ms (default 10 s). */
  intervalMs?: number;
  /** Lines logged per key and window before the rest is only counted (default 1). */
  burst?: number;
  /** Keys tracked at most; the oldest is forgotten first (default 256). */
  maxKeys?: number;
  now?: () => number;
}

export class RateLimitedLog {
  private readonly keys = new Map<string, KeyState>();
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    opts: RateLimitOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.burst = opts.burst ?? 1;
    this.maxKeys = opts.maxKeys ?? 256;
    this.now = opts.now ?? (() => performance.now());
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Logs `msg` under `key` unless this key already used its lines in the current window. */
  log(level: Level, key: string, obj: Record<string, unknown>, msg: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const now = this.now();
    let st = this.keys.get(key);
    if (st !== undefined && now - st.windowStartMs >= this.intervalMs) {
      this.emitSummary(st);
      st.windowStartMs = now;
      st.emitted = 0;
    }
    if (st === undefined) {
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next().value;
        if (oldest !== undefined) {
          const old = this.keys.get(oldest);
          if (old) this.emitSummary(old);
          this.keys.delete(oldest);
        }
      }
      st = { windowStartMs: now, emitted: 0, suppressed: 0, level, msg, obj, lastMs: now };
      this.keys.set(key, st);
    }
    st.lastMs = now;
    st.level = level;
    st.msg = msg;
    st.obj = obj;
    if (st.emitted < this.burst) {
      st.emitted += 1;
      this.logger[level](obj, msg);
    } else {
      st.suppressed += 1;
    }
  }

  /** Emits the counts of suppressed lines whose window ended, and forgets idle keys. */
  flush(force = false): void {
    const now = this.now();
    for (const [key, st] of this.keys) {
      if (force || now - st.windowStartMs >= this.intervalMs) {
        this.emitSummary(st);
        st.windowStartMs = now;
        st.emitted = 0;
        if (now - st.lastMs >= 2 * this.intervalMs) this.keys.delete(key);
      }
    }
  }

  close(): void {
    this.flush(true);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private emitSummary(st: KeyState): void {
    if (st.suppressed === 0) return;
    this.logger[st.level](
      { ...st.obj, repeated: st.suppressed, intervalSeconds: this.intervalMs / 1000 },
      `${st.msg} (repeated ${st.suppressed} more times)`,
    );
    st.suppressed = 0;
  }
}
