/**
 * Drives test/integration/helpers/probe.mjs (a listener or publisher of the built library) in a host
 * namespace: collects its JSON-line events and waits for the ones a test expects, with bounded waits.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Host } from '../../harness/netns.js';

export const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));

export interface ProbeEvent {
  event: string;
  [key: string]: unknown;
}

export class Probe {
  readonly events: ProbeEvent[] = [];
  stderr = '';
  private buffer = '';
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf('\n');
      while (nl >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim() !== '') this.events.push(JSON.parse(line) as ProbeEvent);
        nl = this.buffer.indexOf('\n');
      }
      for (const w of this.waiters) w();
    });
    child.stderr?.on('data', (d) => {
      this.stderr += String(d);
    });
    child.once('exit', () => {
      for (const w of this.waiters) w();
    });
  }

  static listen(host: Host, options: Record<string, unknown>): Probe {
    return new Probe(host.spawn(process.execPath, [PROBE, 'listen', JSON.stringify(options)]));
  }

  static publish(host: Host, options: Record<string, unknown>): Probe {
    return new Probe(host.spawn(process.execPath, [PROBE, 'publish', JSON.stringify(options)]));
  }

  send(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }

  count(pred: (e: ProbeEvent) => boolean): number {
    return this.events.filter(pred).length;
  }

  /** The first event (from index `from`) matching `pred`; fails after `timeoutMs` or when the process exits. */
  waitFor(pred: (e: ProbeEvent) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<ProbeEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.events.slice(from).find(pred);
        if (hit) {
          done();
          resolve(hit);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`probe exited (${this.child.exitCode}) before ${what}; stderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(this.events.slice(-5))}; stderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a query command and waits for its answer event. */
  async request(command: 'metrics' | 'memberships'): Promise<ProbeEvent> {
    const from = this.events.length;
    this.send(command);
    return this.waitFor((e) => e.event === command, `${command} answer`, 5000, from);
  }

  async started(): Promise<ProbeEvent> {
    return this.waitFor((e) => e.event === 'started' || e.event === 'startError', 'start');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.send('stop');
    await this.waitFor((e) => e.event === 'stopped', 'stop', 5000).catch(() => this.child.kill('SIGKILL'));
  }
}
