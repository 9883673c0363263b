/**
 * Watches a page for long tasks (50 ms or more of script, style and layout without a break, as Chromium reports
 * them): evaluate WATCH_LONG_TASKS in the page, then LONGEST_TASK gives the longest one since, in ms (0: none).
 * Strings, because the page's Content-Security-Policy forbids eval and the DevTools protocol evaluates these.
 */
export const WATCH_LONG_TASKS = `
  window.longest = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration);
  }).observe({ type: 'longtask' });
`;

export const LONGEST_TASK = 'window.longest';
