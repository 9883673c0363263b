/**
 * One tab per listener when the agent runs several (plus "All"), following the ARIA tabs pattern: one tab
 * in the tab order, arrow keys, Home and End move between tabs and select them.
 */
import { h, setText } from './dom.js';

export class ListenerTabs {
  private names: string[] = [];
  private selected = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly panelId: string,
    private readonly onSelect: (listener: string) => void,
  ) {
    root.addEventListener('keydown', (ev) => this.onKeyDown(ev));
  }

  /** Rebuilds the tabs when the listeners change; returns the selected listener ('' for all). */
  update(names: string[], selected: string): string {
    this.selected = names.includes(selected) ? selected : '';
    const wanted = names.length > 1 ? ['', ...names] : [];
    if (
      wanted.join('\u0000') !== this.names.join('\u0000') ||
      this.root.childElementCount !== wanted.length
    ) {
      this.names = wanted;
      this.root.replaceChildren(
        ...wanted.map((name) => {
          const tab = h('button', {
            type: 'button',
            role: 'tab',
            'data-listener': name,
            'aria-controls': this.panelId,
          });
          setText(tab, name === '' ? 'All listeners' : name);
          tab.addEventListener('click', () => this.onSelect(name));
          return tab;
        }),
      );
    }
    this.root.hidden = wanted.length === 0;
    for (const tab of this.tabs()) {
      const on = tab.dataset.listener === this.selected;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on) tab.id = 'listener-tab-selected';
      else tab.removeAttribute('id');
    }
    // The content is a tab panel only while there are tabs; with one listener it is just the page.
    const panel = document.getElementById(this.panelId);
    if (panel && wanted.length > 0) {
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', 'listener-tab-selected');
    } else if (panel) {
      panel.removeAttribute('role');
      panel.removeAttribute('aria-labelledby');
    }
    return this.selected;
  }

  private tabs(): HTMLButtonElement[] {
    return [...this.root.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  }

  private onKeyDown(ev: KeyboardEvent): void {
    const tabs = this.tabs();
    const i = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    const next =
      ev.key === 'ArrowRight'
        ? tabs[(i + 1) % tabs.length]
        : ev.key === 'ArrowLeft'
          ? tabs[(i - 1 + tabs.length) % tabs.length]
          : ev.key === 'Home'
            ? tabs[0]
            : ev.key === 'End'
              ? tabs.at(-1)
              : undefined;
    if (!next) return;
    ev.preventDefault();
    next.focus();
    this.onSelect(next.dataset.listener ?? '');
  }
}
