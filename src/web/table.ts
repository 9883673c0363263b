/**
 * The services table. Rows are keyed by service and kept between renders: a change of one service
 * updates its cells' text, a tick updates only the time columns, and rows are moved only when the order
 * changes. Columns sort by click or keyboard (the header cells hold buttons) and report it with aria-sort.
 */

import type { ServiceView } from '../agent/api-types.js';
import { h, setText } from './dom.js';
import { formatAge, formatAgo, formatClock, formatCount, formatDuration } from './format.js';
import { expiresAt, type Query, type SortKey } from './query.js';
import type { ServiceEntry, Store } from './store.js';

/**
 * Rows put in the DOM at first, and added by each "Show more". Every row costs layout on each update, so
 * at 10 000 services the page stays responsive by showing a screenful or two and letting filters do the rest.
 */
export const ROW_PAGE = 200;

interface Column {
  key: SortKey;
  label: string;
  /** Shown as the column header's tooltip. */
  hint: string;
}

const COLUMNS: Column[] = [
  { key: 'state', label: 'State', hint: 'up, stale (no announcement within its TTL) or gone (said goodbye)' },
  { key: 'type', label: 'Type', hint: 'The announced type' },
  { key: 'name', label: 'Name', hint: 'The announced name' },
  { key: 'addr', label: 'Address', hint: 'host:port as announced' },
  { key: 'version', label: 'Version', hint: 'The announced version' },
  {
    key: 'lastSeen',
    label: 'Last seen',
    hint: 'Time of the last announcement on this computer’s clock, and how long ago that was',
  },
  { key: 'expires', label: 'Expires', hint: 'Time until the service turns stale, or until it is forgotten' },
  { key: 'age', label: 'Age', hint: 'Receive time minus the sender’s timestamp of the last announcement' },
  { key: 'lost', label: 'Lost', hint: 'Announcements missed, from gaps in the sequence numbers' },
  { key: 'listener', label: 'Listener', hint: 'The listener (group and port) that heard it' },
];

const STATE_HINT: Record<ServiceView['state'], string> = {
  up: 'Announcing',
  stale: 'No announcement within its TTL; forgotten when the retention ends',
  gone: 'Said goodbye',
};

interface Row {
  tr: HTMLTableRowElement;
  state: HTMLSpanElement;
  type: HTMLTableCellElement;
  select: HTMLButtonElement;
  addr: HTMLTableCellElement;
  version: HTMLTableCellElement;
  lastSeen: HTMLTableCellElement;
  lastSeenClock: HTMLElement;
  lastSeenAgo: HTMLElement;
  expires: HTMLTableCellElement;
  age: HTMLTableCellElement;
  lost: HTMLTableCellElement;
  listener: HTMLTableCellElement;
  entry: ServiceEntry;
}

export interface TableCallbacks {
  select(id: string): void;
  sort(key: SortKey): void;
}

export class ServiceTable {
  private readonly rows = new Map<string, Row>();
  private readonly headers = new Map<SortKey, HTMLTableCellElement>();
  private readonly tbody: HTMLTableSectionElement;
  private readonly emptyRow: HTMLTableRowElement;
  private readonly emptyCell: HTMLTableCellElement;
  private order: string[] = [];
  private selected: string | undefined;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly store: Store,
    private readonly callbacks: TableCallbacks,
  ) {
    const headRow = h('tr');
    for (const col of COLUMNS) {
      const button = h(
        'button',
        { type: 'button', class: 'sort', 'data-sort': col.key, title: col.hint },
        col.label,
        h('span', { class: 'sort-indicator', 'aria-hidden': 'true' }),
      );
      button.addEventListener('click', () => callbacks.sort(col.key));
      const th = h('th', { scope: 'col', class: `col-${col.key}` }, button);
      this.headers.set(col.key, th);
      headRow.append(th);
    }
    this.tbody = h('tbody');
    this.emptyCell = h('td', { colspan: COLUMNS.length, class: 'empty' });
    this.emptyRow = h('tr', { class: 'empty-row' }, this.emptyCell);
    table.replaceChildren(h('thead', {}, headRow), this.tbody);
    this.tbody.addEventListener('keydown', (ev) => this.onKeyDown(ev));
  }

  /** Draws the visible entries in order; `emptyText` explains an empty table. */
  render(
    entries: readonly ServiceEntry[],
    q: Query,
    showListener: boolean,
    emptyText: string,
    limit: number,
  ): void {
    this.table.classList.toggle('hide-listener', !showListener);
    for (const [key, th] of this.headers) {
      if (key === q.sortKey) th.setAttribute('aria-sort', q.sortDirection);
      else th.removeAttribute('aria-sort');
    }
    const shown = entries.slice(0, limit);
    const ids = shown.map((e) => e.id);
    const keep = new Set(ids);
    // When the focused row goes (service forgotten, filtered out), focus moves to the row now in its place.
    let lostFocusAt = -1;
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        if (row.tr.contains(document.activeElement)) lostFocusAt = this.order.indexOf(id);
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    for (const entry of shown) {
      const row = this.rows.get(entry.id) ?? this.createRow(entry);
      this.fill(row, entry);
    }
    if (!sameOrder(ids, this.order)) {
      // Moving a row blurs whatever was focused in it; a keyboard user must not lose their place when
      // an update re-sorts the table under them.
      const focused = document.activeElement;
      const fragment = document.createDocumentFragment();
      for (const id of ids) fragment.append(this.rows.get(id)!.tr);
      this.tbody.replaceChildren(fragment);
      this.order = ids;
      if (
        focused instanceof HTMLElement &&
        focused !== document.activeElement &&
        this.tbody.contains(focused)
      ) {
        focused.focus({ preventScroll: true });
      }
    }
    if (lostFocusAt >= 0) {
      const next = shown[Math.min(lostFocusAt, shown.length - 1)];
      if (next) this.rows.get(next.id)?.select.focus({ preventScroll: true });
    }
    if (shown.length === 0) {
      setText(this.emptyCell, emptyText);
      if (!this.emptyRow.isConnected) this.tbody.append(this.emptyRow);
    } else {
      this.emptyRow.remove();
    }
    this.tick();
  }

  /** Updates the time columns, once a second. */
  tick(): void {
    const serverNow = this.store.serverNow();
    const mono = this.store.clientMono();
    for (const row of this.rows.values()) {
      const v = row.entry.view;
      // The agent's wall clock, moved to this computer's, so that the time matches the clock on screen.
      setText(row.lastSeenClock, formatClock(v.lastSeen - this.store.skew));
      setText(row.lastSeenAgo, formatAgo(serverNow - v.lastSeen));
      setText(row.expires, expiryText(row.entry, mono));
    }
  }

  setSelected(id: string | undefined): void {
    if (this.selected !== undefined) {
      const old = this.rows.get(this.selected);
      old?.tr.classList.remove('selected');
      old?.select.removeAttribute('aria-current');
    }
    this.selected = id;
    const row = id === undefined ? undefined : this.rows.get(id);
    row?.tr.classList.add('selected');
    row?.select.setAttribute('aria-current', 'true');
  }

  focusRow(id: string): void {
    this.rows.get(id)?.select.focus();
  }

  private createRow(entry: ServiceEntry): Row {
    const select = h('button', { type: 'button', class: 'select' });
    select.addEventListener('click', () => this.callbacks.select(entry.id));
    const state = h('span', { class: 'state' });
    const lastSeenClock = h('time', { class: 'clock' });
    const lastSeenAgo = h('span', { class: 'ago' });
    const row: Row = {
      tr: h('tr', { 'data-id': entry.id }),
      state,
      type: h('td', { class: 'col-type' }),
      select,
      addr: h('td', { class: 'col-addr mono' }),
      version: h('td', { class: 'col-version' }),
      lastSeen: h('td', { class: 'col-lastSeen num' }, lastSeenClock, ' ', lastSeenAgo),
      lastSeenClock,
      lastSeenAgo,
      expires: h('td', { class: 'col-expires num' }),
      age: h('td', { class: 'col-age num' }),
      lost: h('td', { class: 'col-lost num' }),
      listener: h('td', { class: 'col-listener' }),
      entry,
    };
    row.tr.append(
      h('td', { class: 'col-state' }, state),
      row.type,
      h('th', { scope: 'row', class: 'col-name' }, select),
      row.addr,
      row.version,
      row.lastSeen,
      row.expires,
      row.age,
      row.lost,
      row.listener,
    );
    // A click anywhere on the row selects it; the name button is the keyboard's way in.
    row.tr.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('button')) return;
      this.callbacks.select(row.entry.id);
    });
    if (entry.id === this.selected) {
      row.tr.classList.add('selected');
      select.setAttribute('aria-current', 'true');
    }
    this.rows.set(entry.id, row);
    return row;
  }

  private fill(row: Row, entry: ServiceEntry): void {
    row.entry = entry;
    const v = entry.view;
    // Attributes are written only when they change: rewriting even the same value restyles the row.
    if (row.tr.dataset.state !== v.state) {
      row.tr.dataset.state = v.state;
      row.state.className = `state state-${v.state}`;
      row.state.title = STATE_HINT[v.state];
      setText(row.state, v.state);
    }
    setText(row.type, v.type);
    setText(row.select, v.name === '' ? '(no name)' : v.name);
    setText(row.addr, v.addr);
    setText(row.version, v.version ?? '—');
    setText(row.age, formatAge(v.age));
    setText(row.lost, formatCount(v.lost));
    setText(row.listener, v.listener);
  }

  /** Up and down arrows move between rows, Home and End to the first and last. */
  private onKeyDown(ev: KeyboardEvent): void {
    if (!(ev.target instanceof HTMLButtonElement) || !ev.target.classList.contains('select')) return;
    const buttons = [...this.tbody.querySelectorAll<HTMLButtonElement>('button.select')];
    const i = buttons.indexOf(ev.target);
    const target =
      ev.key === 'ArrowDown'
        ? buttons[i + 1]
        : ev.key === 'ArrowUp'
          ? buttons[i - 1]
          : ev.key === 'Home'
            ? buttons[0]
            : ev.key === 'End'
              ? buttons.at(-1)
              : undefined;
    if (target) {
      ev.preventDefault();
      target.focus();
    }
  }
}

export function expiryText(entry: ServiceEntry, mono: number): string {
  const left = expiresAt(entry) - mono;
  if (entry.view.state === 'up') return left > 0 ? `stale in ${formatDuration(left)}` : 'stale now';
  return left > 0 ? `forgotten in ${formatDuration(left)}` : 'forgetting';
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
