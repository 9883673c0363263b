/**
 * Metrics tiles: one group per listener and per publisher with the widget's live figures (active
 * services, packets, bytes, errors, uptime, rate), the drops, and a sparkline of the packet rate. A
 * listener's group carries Refresh and Reset Metrics, disabled with the reason when the agent has admin
 * actions turned off.
 */
import type { ListenerView, MetricsView, PublisherView, StatusView } from '../agent/api-types.js';
import type { ListenerAction } from './actions.js';
import { h, setText } from './dom.js';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import { createSparkline, type Sparkline } from './sparkline.js';
import type { Store } from './store.js';

type Kind = 'listener' | 'publisher';

interface Group {
  section: HTMLElement;
  subtitle: HTMLElement;
  warning: HTMLElement;
  values: Map<string, HTMLElement>;
  sparkline: Sparkline;
  buttons: HTMLButtonElement[];
  hint: HTMLElement | undefined;
}

interface TileSpec {
  metric: string;
  label: string;
  value(m: MetricsView): string;
}

const LISTENER_TILES: TileSpec[] = [
  { metric: 'active_services', label: 'Active services', value: (m) => formatCount(m.active_services) },
  { metric: 'packets', label: 'Packets', value: (m) => formatCount(m.packets_received) },
  { metric: 'bytes', label: 'Bytes', value: (m) => formatBytes(m.bytes_received) },
  { metric: 'errors', label: 'Errors', value: (m) => formatCount(m.errors) },
  { metric: 'dropped', label: 'Dropped', value: (m) => formatCount(sum(m.dropped)) },
  { metric: 'uptime', label: 'Uptime', value: (m) => formatDuration(m.uptime_seconds) },
  { metric: 'rate', label: 'Rate', value: (m) => formatRate(m.packets_per_second) },
];

const PUBLISHER_TILES: TileSpec[] = [
  { metric: 'packets', label: 'Packets', value: (m) => formatCount(m.packets_sent) },
  { metric: 'bytes', label: 'Bytes', value: (m) => formatBytes(m.bytes_sent) },
  { metric: 'errors', label: 'Errors', value: (m) => formatCount(m.errors) },
  { metric: 'uptime', label: 'Uptime', value: (m) => formatDuration(m.uptime_seconds) },
  { metric: 'rate', label: 'Rate', value: (m) => formatRate(m.packets_per_second) },
];

function sum(values: Record<string, number>): number {
  let total = 0;
  for (const v of Object.values(values)) total += v;
  return total;
}

function where(v: ListenerView | PublisherView): string {
  const ifaces =
    v.interfaces === null
      ? 'default interface'
      : v.interfaces === 'all'
        ? 'all interfaces'
        : v.interfaces.join(', ');
  return `${v.group}:${v.port} · ${ifaces} · ${v.running ? 'running' : 'stopped'}`;
}

export function adminHint(mode: StatusView['admin']): string {
  switch (mode) {
    case 'disabled':
      return 'Refresh and Reset Metrics are disabled on this agent (http.enableAdmin is off).';
    case 'open':
      return 'Refresh clears the list and resets the listener’s metrics; Reset Metrics resets the metrics only.';
    case 'token':
      return 'Protected actions: the page asks for the agent’s bearer token.';
    case 'basic':
      return 'Protected actions: the page asks for the agent’s user name and password.';
    case 'token+basic':
      return 'Protected actions: the page asks for the agent’s token or user name and password.';
  }
}

export class MetricsTiles {
  private readonly groups = new Map<string, Group>();
  /**
   * Up services per listener that pass the page's filters, while a filter is set: the "Active services"
   * tile then reads "3 of 4", like the table beside it.
   */
  filteredUp: Map<string, { matching: number; up: number }> | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly store: Store,
    private readonly onAction: (listener: string, action: ListenerAction) => void,
  ) {}

  /** Shows every publisher and the listeners of the chosen tab ('' for all). */
  render(listener: string): void {
    const admin = this.store.status?.admin ?? 'disabled';
    const wanted: string[] = [];
    for (const l of this.store.listeners) {
      if (listener !== '' && l.name !== listener) continue;
      const id = `listener:${l.name}`;
      wanted.push(id);
      const g = this.groups.get(id) ?? this.create(id, 'listener', l.name);
      this.fill(g, l, LISTENER_TILES, this.store.rates('listener', l.name));
      const active = g.values.get('active_services');
      const counts = this.filteredUp && (this.filteredUp.get(l.name) ?? { matching: 0, up: 0 });
      if (active && counts) setText(active, `${formatCount(counts.matching)} of ${formatCount(counts.up)}`);
      const problems = l.memberships.filter((m) => !m.joined);
      g.warning.hidden = problems.length === 0;
      setText(
        g.warning,
        problems.map((m) => `Not joined on ${m.interface}${m.error ? `: ${m.error}` : ''}`).join('; '),
      );
      for (const b of g.buttons) b.disabled = admin === 'disabled';
      if (g.hint) setText(g.hint, adminHint(admin));
    }
    for (const p of this.store.publishers) {
      const id = `publisher:${p.name}`;
      wanted.push(id);
      const g = this.groups.get(id) ?? this.create(id, 'publisher', p.name);
      this.fill(g, p, PUBLISHER_TILES, this.store.rates('publisher', p.name));
      setText(g.warning, '');
      g.warning.hidden = true;
    }
    for (const [id, g] of this.groups) {
      if (!wanted.includes(id)) {
        g.section.remove();
        this.groups.delete(id);
      }
    }
    const order = wanted.map((id) => this.groups.get(id)!.section);
    if (
      order.some((node, i) => this.root.children[i] !== node) ||
      this.root.children.length !== order.length
    ) {
      this.root.replaceChildren(...order);
    }
  }

  private fill(g: Group, v: ListenerView | PublisherView, tiles: TileSpec[], rates: number[]): void {
    setText(g.subtitle, where(v));
    for (const t of tiles) {
      const dd = g.values.get(t.metric);
      if (dd) setText(dd, t.value(v.metrics));
    }
    g.sparkline.update(rates);
  }

  private create(id: string, kind: Kind, name: string): Group {
    const headingId = `tiles-${kind}-${this.groups.size}-${Math.random().toString(36).slice(2, 8)}`;
    const subtitle = h('p', { class: 'group-sub' });
    const warning = h('p', { class: 'group-warning', role: 'status' });
    const values = new Map<string, HTMLElement>();
    const dl = h('dl', { class: 'tiles' });
    for (const t of kind === 'listener' ? LISTENER_TILES : PUBLISHER_TILES) {
      const dd = h('dd', { 'data-metric': t.metric });
      values.set(t.metric, dd);
      dl.append(h('div', { class: 'tile' }, h('dt', {}, t.label), dd));
    }
    const sparkline = createSparkline(`Packet rate of ${kind} ${name}`);
    dl.append(
      h('div', { class: 'tile tile-spark' }, h('dt', {}, 'Packet rate'), h('dd', {}, sparkline.node)),
    );
    const section = h(
      'section',
      {
        class: `tile-group tile-group-${kind}`,
        'data-kind': kind,
        'data-name': name,
        'aria-labelledby': headingId,
      },
      h(
        'div',
        { class: 'group-head' },
        h(
          'h3',
          { id: headingId },
          h('span', { class: 'group-kind' }, kind === 'listener' ? 'Listener ' : 'Publisher '),
          name,
        ),
        subtitle,
      ),
      warning,
      dl,
    );
    const buttons: HTMLButtonElement[] = [];
    let hint: HTMLElement | undefined;
    if (kind === 'listener') {
      const hintId = `${headingId}-hint`;
      hint = h('p', { class: 'hint', id: hintId });
      for (const [action, label] of [
        ['refresh', 'Refresh'],
        ['reset-metrics', 'Reset Metrics'],
      ] as const) {
        const b = h('button', { type: 'button', 'data-action': action, 'aria-describedby': hintId }, label);
        b.addEventListener('click', () => this.onAction(name, action));
        buttons.push(b);
      }
      section.append(h('div', { class: 'group-actions' }, ...buttons, hint));
    }
    const g: Group = { section, subtitle, warning, values, sparkline, buttons, hint };
    this.groups.set(id, g);
    return g;
  }
}
