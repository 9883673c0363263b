/**
 * `browse --pick`: the widget's choose-and-return on a terminal. The list of live services is drawn on the
 * terminal (stderr, so that stdout stays free for the answer: `addr=$(vault-multicast browse --pick | jq …)`
 * works), arrows move, typing filters, Enter returns the service, Esc returns nothing.
 */
import { emitKeypressEvents } from 'node:readline';
import type { VaultMultiListener } from '../discovery/listener.js';
import { snapshot } from '../discovery/service-events.js';
import type { ServiceRecord } from '../discovery/types.js';
import { printable } from './args.js';
import { cut, headerLine, layout, rowLine, sortRecords } from './browse-table.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[?25l';
const LEAVE_ALT_SCREEN = '\x1b[?25h\x1b[?1049l';
const REDRAW_MS = 100;
/** Lines above the rows: title, filter, blank, column titles. */
const HEAD_LINES = 4;

interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
}

export interface PickTerminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

function matches(r: ServiceRecord, terms: string[]): boolean {
  const text = `${r.type}\n${r.name}\n${r.addr}\n${r.version ?? ''}`.toLowerCase();
  return terms.every((t) => text.includes(t));
}

/** Resolves to the chosen service (a copy), or undefined when the user cancels or `signal` aborts. */
export function pick(
  listener: VaultMultiListener,
  term: PickTerminal,
  title: string,
  signal?: AbortSignal,
): Promise<ServiceRecord | undefined> {
  const { input, output } = term;
  let query = '';
  let selectedKey: string | undefined;
  let selectedIndex = 0;
  let top = 0;
  let dirty = true;

  const items = (): ServiceRecord[] => {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    return sortRecords(listener.registry.services()).filter((r) => r.state === 'up' && matches(r, terms));
  };

  const draw = (): void => {
    if (!dirty) return;
    dirty = false;
    const width = output.columns ?? 80;
    const height = Math.max(HEAD_LINES + 1, output.rows ?? 24);
    const list = items();
    const at = list.findIndex((r) => r.key === selectedKey);
    selectedIndex = at >= 0 ? at : Math.min(selectedIndex, Math.max(0, list.length - 1));
    selectedKey = list[selectedIndex]?.key;
    const visible = height - HEAD_LINES;
    if (selectedIndex < top) top = selectedIndex;
    if (selectedIndex >= top + visible) top = selectedIndex - visible + 1;
    top = Math.max(0, Math.min(top, Math.max(0, list.length - visible)));
    const l = layout(Math.max(10, width - 2));
    const total = [...listener.registry.services()].filter((r) => r.state === 'up').length;
    const lines = [
      cut(title, width),
      cut(`filter: ${printable(query)}▏ ${list.length} of ${total}`, width),
      '',
      `  ${headerLine(l)}`,
    ];
    const now = Date.now();
    for (const [i, r] of list.slice(top, top + visible).entries()) {
      const row = rowLine(r, now, l);
      lines.push(top + i === selectedIndex ? `\x1b[7m> ${row.padEnd(l.width)}\x1b[0m` : `  ${row}`);
    }
    if (list.length === 0)
      lines.push(total === 0 ? '  (waiting for services…)' : `  (no service matches '${printable(query)}')`);
    output.write(`\x1b[H\x1b[2J${lines.join('\r\n')}`);
  };

  return new Promise((resolve) => {
    const redraw = setInterval(draw, REDRAW_MS);
    // The SEEN column ages even when nothing arrives.
    const ager = setInterval(() => {
      dirty = true;
    }, 1000);
    const mark = (): void => {
      dirty = true;
    };
    const events = ['up', 'update', 'down', 'removed'] as const;
    const finish = (choice: ServiceRecord | undefined): void => {
      clearInterval(redraw);
      clearInterval(ager);
      for (const e of events) listener.off(e, mark);
      input.off('keypress', onKey);
      output.off('resize', mark);
      signal?.removeEventListener('abort', onAbort);
      input.setRawMode(false);
      input.pause();
      output.write(LEAVE_ALT_SCREEN);
      resolve(choice);
    };
    const onAbort = (): void => finish(undefined);
    const onKey = (str: string | undefined, key: Key | undefined): void => {
      const name = key?.name;
      if (name === 'escape' || (key?.ctrl && (name === 'c' || name === 'd'))) {
        finish(undefined);
        return;
      }
      if (name === 'return' || name === 'enter') {
        const chosen = items().find((r) => r.key === selectedKey);
        if (chosen) finish(snapshot(chosen));
        return;
      }
      const list = items();
      const move = (to: number): void => {
        selectedIndex = Math.max(0, Math.min(list.length - 1, to));
        selectedKey = list[selectedIndex]?.key;
      };
      const page = Math.max(1, (output.rows ?? 24) - HEAD_LINES);
      if (name === 'up' || (key?.ctrl && name === 'p')) move(selectedIndex - 1);
      else if (name === 'down' || (key?.ctrl && name === 'n')) move(selectedIndex + 1);
      else if (name === 'pageup') move(selectedIndex - page);
      else if (name === 'pagedown') move(selectedIndex + page);
      else if (name === 'home') move(0);
      else if (name === 'end') move(list.length - 1);
      else if (name === 'backspace') query = query.slice(0, -1);
      else if (key?.ctrl && name === 'u') query = '';
      else if (str !== undefined && !key?.ctrl && !key?.meta && /^[^\p{C}]+$/u.test(str)) query += str;
      else return;
      dirty = true;
      draw();
    };
    for (const e of events) listener.on(e, mark);
    output.on('resize', mark);
    signal?.addEventListener('abort', onAbort, { once: true });
    emitKeypressEvents(input);
    input.setRawMode(true);
    input.on('keypress', onKey);
    input.resume();
    output.write(ENTER_ALT_SCREEN);
    draw();
  });
}
