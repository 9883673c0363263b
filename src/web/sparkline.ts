/**
 * A small line chart of recent packet rates, drawn as SVG through DOM calls (no markup strings). The
 * vertical scale follows the largest recent value so that a quiet listener still shows its pattern.
 */
import { s } from './dom.js';
import { formatRate } from './format.js';
import { HISTORY_LENGTH } from './store.js';

const WIDTH = 120;
const HEIGHT = 28;

export interface Sparkline {
  readonly node: SVGSVGElement;
  update(rates: readonly number[]): void;
}

export function createSparkline(label: string): Sparkline {
  const node = s('svg', {
    class: 'sparkline',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img',
    focusable: 'false',
  });
  const title = s('title');
  const area = s('polygon', { class: 'sparkline-area' });
  const line = s('polyline', { class: 'sparkline-line' });
  node.append(title, area, line);

  const update = (rates: readonly number[]) => {
    // Headroom above the peak keeps a steady rate from reading as a line glued to the top edge.
    const max = Math.max(1, ...rates) * 1.25;
    const step = WIDTH / (HISTORY_LENGTH - 1);
    // Newest sample at the right edge; the chart fills in from the right as history accumulates.
    const offset = WIDTH - (rates.length - 1) * step;
    const points = rates.map((r, i) => {
      const x = offset + i * step;
      const y = HEIGHT - 1 - (Math.max(0, r) / max) * (HEIGHT - 2);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    line.setAttribute('points', points.join(' '));
    area.setAttribute(
      'points',
      points.length > 1 ? `${offset.toFixed(1)},${HEIGHT} ${points.join(' ')} ${WIDTH},${HEIGHT}` : '',
    );
    const last = rates.at(-1);
    const text =
      last === undefined
        ? `${label}: no samples yet`
        : `${label}: now ${formatRate(last)}, peak ${formatRate(Math.max(...rates))} over the last ${rates.length} s`;
    node.setAttribute('aria-label', text);
    title.textContent = text;
  };
  update([]);
  return { node, update };
}
