/**
 * The discovery page: the original's desktop widget as a live web page served by the agent. Everything
 * arrives over the event stream (snapshot, then service and metrics events) into the store; views are
 * redrawn at most once per animation frame, and the time columns tick once a second.
 */
import type { ListenerAction } from './actions.js';
import { runListenerAction } from './actions.js';
import { DetailsPanel } from './details.js';
import { byId, setText } from './dom.js';
import { isFramed } from './embed.js';
import { OrderedServices } from './ordered.js';
import { DEFAULT_QUERY, type Query, type SortKey } from './query.js';
import { Store } from './store.js';
import { type ConnectionState, connectStream } from './stream.js';
import { ServiceTable } from './table.js';
import { ListenerTabs } from './tabs.js';
import { setupTheme } from './theme.js';
import { MetricsTiles } from './tiles.js';
import { readFilters, writeFilters } from './url-state.js';

const store = new Store();
const query: Query = { ...DEFAULT_QUERY };

const banner = byId('banner');
const connection = byId('connection');
const summary = byId('summary');
const message = byId('message');
const typeFilter = byId<HTMLInputElement>('type-filter');
const search = byId<HTMLInputElement>('search');
const showDeparted = byId<HTMLInputElement>('show-departed');
const agentVersion = byId('agent-version');
const metricsCount = byId('metrics-count');
const ordered = new OrderedServices();

function say(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  message.textContent = text;
  message.dataset.kind = kind;
}

const table = new ServiceTable(byId<HTMLTableElement>('services-table'), byId('table-wrap'), store, {
  select: (id) => select(id),
  sort: (key) => sortBy(key),
});
const details = new DetailsPanel(
  store,
  (text) => say(text),
  () => select(undefined),
);
const tiles = new MetricsTiles(byId('tiles'), store, (listener, action) => void act(listener, action));
const tabs = new ListenerTabs(byId('listener-tabs'), 'listener-panel', (listener) => {
  query.listener = listener;
  renderAll();
});

let framePending = false;
let needAll = false;
let lastFullRenderEnd = 0;
let lastFullRenderCost = 0;

/**
 * Coalesces bursts of events into one redraw per frame; metrics alone redraw only the tiles. A full redraw
 * (filter, sort, table) waits until four times its last cost has passed, so that thousands of services
 * announcing at once leave the page responsive instead of sorting on every frame.
 */
function schedule(all: boolean): void {
  needAll ||= all;
  if (framePending) return;
  framePending = true;
  const wait = needAll ? lastFullRenderEnd + 4 * lastFullRenderCost - performance.now() : 0;
  const draw = () =>
    requestAnimationFrame(() => {
      framePending = false;
      const full = needAll;
      needAll = false;
      if (!full) {
        tiles.render(query.listener);
        return;
      }
      const start = performance.now();
      renderAll();
      // Reading layout here makes the measured cost include it (the frame would pay for it anyway).
      void document.body.offsetHeight;
      lastFullRenderEnd = performance.now();
      lastFullRenderCost = lastFullRenderEnd - start;
      // A User Timing entry: shows in the browser's performance panel when a page feels slow.
      performance.measure('vault-multicast:render', { start, end: lastFullRenderEnd });
    });
  if (wait > 0) setTimeout(draw, wait);
  else draw();
}

function renderAll(): void {
  query.listener = tabs.update(
    store.listeners.map((l) => l.name),
    query.listener,
  );
  const visible = ordered.update(store.services, store.takeChanges(), query);
  if (query.typeFilter !== '' || query.search !== '') {
    // Both sides counted from the same list, so that the tile agrees with the table whatever the counters say.
    const counts = new Map<string, { matching: number; up: number }>();
    const count = (listener: string) => {
      let c = counts.get(listener);
      if (!c) {
        c = { matching: 0, up: 0 };
        counts.set(listener, c);
      }
      return c;
    };
    for (const e of store.services.values()) if (e.view.state === 'up') count(e.view.listener).up += 1;
    for (const e of visible) if (e.view.state === 'up') count(e.view.listener).matching += 1;
    tiles.filteredUp = counts;
  } else tiles.filteredUp = undefined;
  tiles.render(query.listener);
  // The groups scroll in a box of their own: say how many there are, as not all of them may show.
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  setText(
    metricsCount,
    `${plural(store.listeners.length, 'listener')}, ${plural(store.publishers.length, 'publisher')}`,
  );
  const { up, stale, gone } = store.stateCounts(query.listener);
  const inListener = up + stale + gone;
  const empty = !store.status
    ? 'Connecting to the agent…'
    : inListener === 0
      ? 'No services yet — waiting for announcements.'
      : 'No services match the filters.';
  table.render(visible, query, store.listeners.length > 1 && query.listener === '', empty);
  const parts = [
    `${up} up`,
    `${stale} stale`,
    `${gone} departed${query.showDeparted || gone === 0 ? '' : ' (hidden)'}`,
  ];
  setText(
    summary,
    `Showing ${visible.length} of ${inListener} service${inListener === 1 ? '' : 's'} · ${parts.join(' · ')}`,
  );
  details.update();
  renderAgentStatus();
  document.title = `${store.status ? `(${up}) ` : ''}vault-multicast — services`;
}

function renderAgentStatus(): void {
  const status = store.status;
  if (!status) return;
  const notes = [`agent ${status.version}`];
  if (!status.ready) notes.push('not ready');
  if (status.reload.enabled && !status.reload.lastSuccess) notes.push('last configuration reload failed');
  setText(agentVersion, notes.join(' · '));
  agentVersion.dataset.problem = String(notes.length > 1);
}

function select(id: string | undefined): void {
  const previous = details.selected;
  details.show(id === previous ? undefined : id);
  table.setSelected(details.selected);
  if (details.selected !== undefined) details.focus();
  else if (previous !== undefined) table.focusRow(previous);
}

function sortBy(key: SortKey): void {
  if (query.sortKey === key)
    query.sortDirection = query.sortDirection === 'ascending' ? 'descending' : 'ascending';
  else {
    query.sortKey = key;
    query.sortDirection = 'ascending';
  }
  renderAll();
}

async function act(listener: string, action: ListenerAction): Promise<void> {
  const result = await runListenerAction(listener, action, store.status?.admin ?? 'disabled');
  say(result.message, result.ok ? 'ok' : 'error');
  if (result.ok && action === 'refresh') {
    store.clearListener(listener);
    renderAll();
  }
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Disconnected',
};

function setConnection(state: ConnectionState): void {
  connection.dataset.state = state;
  setText(connection, CONNECTION_TEXT[state]);
  banner.hidden = state !== 'reconnecting';
}

const preset = readFilters(location.search);
query.typeFilter = typeFilter.value = preset.typeFilter;
query.search = search.value = preset.search;
const filtersChanged = (): void => {
  writeFilters({ typeFilter: query.typeFilter, search: query.search });
  renderAll();
};
typeFilter.addEventListener('input', () => {
  query.typeFilter = typeFilter.value;
  filtersChanged();
});
search.addEventListener('input', () => {
  query.search = search.value;
  filtersChanged();
});
showDeparted.addEventListener('change', () => {
  query.showDeparted = showDeparted.checked;
  renderAll();
});
document.addEventListener('keydown', (ev) => {
  const target = ev.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
  if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    ev.preventDefault();
    search.focus();
  }
});
setupTheme(byId<HTMLButtonElement>('theme-toggle'));
// On a phone, and in an application's frame, the list matters most: the metrics start folded.
const framed = isFramed();
document.body.classList.toggle('embedded', framed);
if (framed || window.matchMedia('(max-width: 600px)').matches)
  byId<HTMLDetailsElement>('metrics').open = false;

connectStream('api/v1/events', {
  snapshot: (data) => {
    store.applySnapshot(data);
    schedule(true);
  },
  service: (data) => {
    store.applyService(data);
    schedule(true);
  },
  metrics: (data) => {
    store.applyMetrics(data);
    schedule(false);
  },
  state: setConnection,
});

setInterval(() => {
  table.tick();
  details.tick();
}, 1000);
renderAll();
