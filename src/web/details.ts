/**
 * The selected service: its fields, its last announcement as pretty-printed JSON (as text), a Copy
 * button, and Connect. When the agent forgets the service, the panel keeps its last data and says so.
 */
import { copyText } from './clipboard.js';
import { dispatchConnect } from './connect.js';
import { byId, h, setText } from './dom.js';
import { embedTargets, postConnect } from './embed.js';
import { formatAge, formatAgo, formatCount, formatDuration, formatTimestamp } from './format.js';
import type { ServiceEntry, Store } from './store.js';
import { expiryText } from './table.js';
import { webUrl } from './web-url.js';

export class DetailsPanel {
  private readonly root = byId('details');
  private readonly title = byId('details-title');
  private readonly note = byId('details-note');
  private readonly fields = byId('details-fields');
  private readonly json = byId('details-json');
  private readonly copyButton = byId<HTMLButtonElement>('details-copy');
  private readonly connectButton = byId<HTMLButtonElement>('details-connect');
  private readonly values = new Map<string, HTMLElement>();
  private id: string | undefined;
  /** The last view of the selected service, kept after the agent forgets it. */
  private last: ServiceEntry | undefined;

  constructor(
    private readonly store: Store,
    private readonly announce: (message: string) => void,
    private readonly onClose: () => void,
  ) {
    byId('details-close').addEventListener('click', () => this.onClose());
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.onClose();
    });
    this.copyButton.addEventListener('click', () => void this.copyJson());
    this.connectButton.addEventListener('click', () => void this.connect());
    for (const [key, label] of [
      ['state', 'State'],
      ['type', 'Type'],
      ['addr', 'Address'],
      ['version', 'Version'],
      ['listener', 'Listener'],
      ['source', 'Source'],
      ['firstSeen', 'First seen'],
      ['lastSeen', 'Last seen'],
      ['expires', 'Expires'],
      ['ttl', 'TTL'],
      ['age', 'Age'],
      ['packets', 'Announcements'],
      ['lost', 'Lost'],
      ['metricsPort', 'Metrics port'],
    ] as const) {
      const dd = h('dd', { 'data-field': key });
      this.values.set(key, dd);
      this.fields.append(h('div', { class: 'field' }, h('dt', {}, label), dd));
    }
  }

  get selected(): string | undefined {
    return this.id;
  }

  show(id: string | undefined): void {
    this.id = id;
    this.last = id === undefined ? undefined : this.store.services.get(id);
    this.root.hidden = id === undefined;
    // A class rather than :has() in the stylesheet: :has() over a 500-row table made every update restyle it.
    this.root.parentElement?.classList.toggle('with-details', id !== undefined);
    this.update();
  }

  /** Called after every change of the store. */
  update(): void {
    if (this.id === undefined) return;
    const current = this.store.services.get(this.id);
    const gone = current === undefined;
    if (current) this.last = current;
    const entry = this.last;
    if (!entry) return;
    const v = entry.view;
    setText(this.title, v.name === '' ? '(no name)' : v.name);
    this.note.hidden = !gone;
    setText(this.note, gone ? 'The agent has forgotten this service; this is its last known data.' : '');
    this.set('state', v.state);
    this.set('type', v.type);
    this.set('addr', v.addr);
    this.set('version', v.version ?? '—');
    this.set('listener', v.listener);
    this.set('source', v.source);
    this.set('firstSeen', formatTimestamp(v.firstSeen));
    this.set('ttl', formatDuration(v.ttl));
    this.set('age', formatAge(v.age));
    this.set('packets', formatCount(v.packets));
    this.set('lost', formatCount(v.lost));
    this.set('metricsPort', v.metricsPort === null ? '—' : String(v.metricsPort));
    setText(this.json, JSON.stringify(v.data, null, 2));
    this.connectButton.textContent =
      embedTargets(this.store.status).length > 0
        ? 'Connect (send to application)'
        : webUrl(v)
          ? 'Connect (open in new tab)'
          : 'Connect (copy address)';
    this.tick();
  }

  tick(): void {
    const entry = this.last;
    if (this.id === undefined || !entry) return;
    this.set(
      'lastSeen',
      `${formatAgo(this.store.serverNow() - entry.view.lastSeen)} (${formatTimestamp(entry.view.lastSeen)})`,
    );
    this.set(
      'expires',
      this.store.services.has(this.id) ? expiryText(entry, this.store.clientMono()) : 'forgotten',
    );
  }

  focus(): void {
    this.title.focus();
  }

  private set(key: string, value: string): void {
    const dd = this.values.get(key);
    if (dd) setText(dd, value);
  }

  private async copyJson(): Promise<void> {
    if (!this.last) return;
    const ok = await copyText(JSON.stringify(this.last.view.data, null, 2));
    this.announce(
      ok ? 'Announcement JSON copied.' : 'Could not copy; select the JSON text and copy it by hand.',
    );
  }

  private async connect(): Promise<void> {
    if (!this.last) return;
    const view = this.last.view;
    const { proceed, url, detail } = dispatchConnect(view);
    if (!proceed) return;
    const targets = embedTargets(this.store.status);
    if (targets.length > 0) {
      postConnect(targets, detail);
      this.announce(`Sent ${view.name === '' ? view.addr : view.name} to the application.`);
      return;
    }
    if (url) {
      window.open(url, '_blank', 'noopener,noreferrer');
      this.announce(`Opened ${url} in a new tab.`);
      return;
    }
    const ok = await copyText(view.addr);
    this.announce(ok ? `Address ${view.addr} copied.` : `Could not copy; the address is ${view.addr}.`);
  }
}
