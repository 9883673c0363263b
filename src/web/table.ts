/**
 * The services table, virtualised: whatever the number of services, only the rows in the scroll box's
 * viewport (and OVERSCAN around it) exist in the DOM, between two spacer rows that give the scrollbar its
 * full height; aria-rowcount and aria-rowindex tell screen readers where they are in the whole list. Rows are
 * keyed by service and kept between draws: a change of one service updates its cells' text, a tick updates
 * only the time columns, and rows are moved only when the order changes. Columns sort by click or keyboard
 * (the header cells hold buttons) and report it with aria-sort.
 */

import type { ServiceView } from '../agent/api-types.js';
import { h, setText } from './dom.js';
import { formatAge, formatAgo, formatClock, formatCount, formatDuration } from './format.js';
import { expiresAt, type Query, type SortKey } from './query.js';
import type { ServiceEntry, Store } from './store.js';

/** Rows drawn above and below the viewport, so that a short scroll shows rows before the next frame. */
const OVERSCAN = 10;
/** Rows drawn when the box has no height yet (not laid out): about a screenful. */
const MIN_WINDOW = 40;
/** Until a row has been measured; style.css fixes the row height (--row-height). */
const DEFAULT_ROW_PX = 36;

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
  private readonly thead: HTMLTableSectionElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly emptyRow: HTMLTableRowElement;
  private readonly emptyCell: HTMLTableCellElement;
  private readonly topSpacer: HTMLTableRowElement;
  private readonly bottomSpacer: HTMLTableRowElement;
  /** Every entry the filters let through, in order; only a window of them is drawn. */
  private entries: readonly ServiceEntry[] = [];
  private emptyText = '';
  /** Ids of the drawn rows, in order, and the index in `entries` of the first. */
  private order: string[] = [];
  private first = 0;
  private rowPx = DEFAULT_ROW_PX;
  private drawPending = false;
  private selected: string | undefined;

  constructor(
    private readonly table: HTMLTableElement,
    /** The box that scrolls the table (the header sticks to its top). */
    private readonly scroller: HTMLElement,
    private readonly store: Store,
    private readonly callbacks: TableCallbacks,
  ) {
    const headRow = h('tr', { 'aria-rowindex': 1 });
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
    this.thead = h('thead', {}, headRow);
    this.tbody = h('tbody');
    this.emptyCell = h('td', { colspan: COLUMNS.length, class: 'empty' });
    this.emptyRow = h('tr', { class: 'empty-row' }, this.emptyCell);
    this.topSpacer = spacerRow();
    this.bottomSpacer = spacerRow();
    table.replaceChildren(this.thead, this.tbody);
    this.tbody.addEventListener('keydown', (ev) => this.onKeyDown(ev));
    // One draw per frame however fast the wheel turns.
    scroller.addEventListener('scroll', () => {
      if (this.drawPending) return;
      this.drawPending = true;
      requestAnimationFrame(() => {
        this.drawPending = false;
        this.draw();
      });
    });
  }

  /** Takes the visible entries in order and draws the window of them in view; `emptyText` explains an empty table. */
  render(entries: readonly ServiceEntry[], q: Query, showListener: boolean, emptyText: string): void {
    this.table.classList.toggle('hide-listener', !showListener);
    for (const [key, th] of this.headers) {
      if (key === q.sortKey) th.setAttribute('aria-sort', q.sortDirection);
      else th.removeAttribute('aria-sort');
    }
    this.table.setAttribute('aria-rowcount', String(entries.length + 1));
    this.entries = entries;
    this.emptyText = emptyText;
    this.draw();
  }

  /** The rows of the entries in view, between spacers as high as the rows left out. */
  private draw(): void {
    const entries = this.entries;
    const headPx = this.thead.offsetHeight;
    const inView = Math.ceil(this.scroller.clientHeight / this.rowPx);
    const count = Math.max(MIN_WINDOW, inView + 2 * OVERSCAN);
    const top = Math.floor(Math.max(0, this.scroller.scrollTop - headPx) / this.rowPx) - OVERSCAN;
    const first = Math.max(0, Math.min(top, entries.length - count));
    const shown = entries.slice(first, first + count);
    const ids = shown.map((e) => e.id);
    const keep = new Set(ids);
    // When the focused row goes because its service went (forgotten, filtered out), focus moves to the row
    // now in its place; a row merely scrolled out of view takes focus with it, as a browser's own list does.
    let lostFocusAt = -1;
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        if (row.tr.contains(document.activeElement) && !entries.some((e) => e.id === id))
          lostFocusAt = this.first + this.order.indexOf(id);
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    for (const entry of shown) {
      const row = this.rows.get(entry.id) ?? this.createRow(entry);
      this.fill(row, entry);
    }
    if (first !== this.first || !sameOrder(ids, this.order)) {
      // Moving a row blurs whatever was focused in it; a keyboard user must not lose their place when
      // an update re-sorts the table under them.
      const focused = document.activeElement;
      const fragment = document.createDocumentFragment();
      shown.forEach((e, i) => {
        const tr = this.rows.get(e.id)!.tr;
        tr.setAttribute('aria-rowindex', String(first + i + 2));
        fragment.append(tr);
      });
      this.tbody.replaceChildren(fragment);
      this.order = ids;
      this.first = first;
      if (
        focused instanceof HTMLElement &&
        focused !== document.activeElement &&
        this.tbody.contains(focused)
      ) {
        focused.focus({ preventScroll: true });
      }
    }
    if (lostFocusAt >= 0) {
      const next = entries[Math.min(lostFocusAt, entries.length - 1)];
      if (next) this.rows.get(next.id)?.select.focus({ preventScroll: true });
    }
    if (shown.length === 0) {
      setText(this.emptyCell, this.emptyText);
      if (!this.emptyRow.isConnected) this.tbody.append(this.emptyRow);
    } else {
      this.emptyRow.remove();
      const measured = this.rows.get(ids[0]!)!.tr.getBoundingClientRect().height;
      if (measured > 0) this.rowPx = measured;
    }
    this.space(this.topSpacer, first, true);
    this.space(this.bottomSpacer, entries.length - first - shown.length, false);
    this.tick();
  }

  /** A spacer stands for `rows` rows left out; it is in the DOM only when there are any. */
  private space(spacer: HTMLTableRowElement, rows: number, before: boolean): void {
    if (rows <= 0) {
      spacer.remove();
      return;
    }
    spacer.style.height = `${rows * this.rowPx}px`;
    if (before && this.tbody.firstChild !== spacer) this.tbody.prepend(spacer);
    if (!before && this.tbody.lastChild !== spacer) this.tbody.append(spacer);
  }

  /** Scrolls the least needed to bring the row at `index` into view, and draws at once. */
  private reveal(index: number): void {
    const headPx = this.thead.offsetHeight;
    const rowTop = headPx + index * this.rowPx;
    const box = this.scroller;
    if (rowTop - headPx < box.scrollTop) box.scrollTop = rowTop - headPx;
    else if (rowTop + this.rowPx > box.scrollTop + box.clientHeight)
      box.scrollTop = rowTop + this.rowPx - box.clientHeight;
    this.draw();
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
    const index = this.entries.findIndex((e) => e.id === id);
    if (index < 0) return;
    this.reveal(index);
    this.rows.get(id)?.select.focus({ preventScroll: true });
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

  /** Up and down arrows move between rows, Home and End to the first and last, drawn or not. */
  private onKeyDown(ev: KeyboardEvent): void {
    if (!(ev.target instanceof HTMLButtonElement) || !ev.target.classList.contains('select')) return;
    const tr = ev.target.closest('tr');
    const i = Number(tr?.getAttribute('aria-rowindex')) - 2;
    const last = this.entries.length - 1;
    const target =
      ev.key === 'ArrowDown'
        ? Math.min(i + 1, last)
        : ev.key === 'ArrowUp'
          ? Math.max(i - 1, 0)
          : ev.key === 'Home'
            ? 0
            : ev.key === 'End'
              ? last
              : undefined;
    if (target === undefined || !(i >= 0)) return;
    ev.preventDefault();
    const entry = this.entries[target];
    if (entry) this.focusRow(entry.id);
  }
}

export function expiryText(entry: ServiceEntry, mono: number): string {
  const left = expiresAt(entry) - mono;
  if (entry.view.state === 'up') return left > 0 ? `stale in ${formatDuration(left)}` : 'stale now';
  return left > 0 ? `forgotten in ${formatDuration(left)}` : 'forgetting';
}

function spacerRow(): HTMLTableRowElement {
  return h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: COLUMNS.length }));
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
