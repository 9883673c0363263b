/**
 * The filters in the address bar: `?type=` (the widget's type filter) and `?q=` (the search) preset them
 * when the page opens, and every change is written back with replaceState, so a link or a reload shows the
 * same view. Other parameters in the URL are left as they are.
 */
export interface UrlFilters {
  typeFilter: string;
  search: string;
}

const PARAMS = { typeFilter: 'type', search: 'q' } as const;

export function readFilters(search: string): UrlFilters {
  const params = new URLSearchParams(search);
  return { typeFilter: params.get(PARAMS.typeFilter) ?? '', search: params.get(PARAMS.search) ?? '' };
}

/** The URL with the filters in it: empty ones are left out. */
export function withFilters(href: string, filters: UrlFilters): string {
  const url = new URL(href);
  for (const [key, param] of Object.entries(PARAMS) as [keyof UrlFilters, string][]) {
    if (filters[key] === '') url.searchParams.delete(param);
    else url.searchParams.set(param, filters[key]);
  }
  return url.href;
}

export function writeFilters(filters: UrlFilters): void {
  const next = withFilters(location.href, filters);
  if (next !== location.href) history.replaceState(history.state, '', next);
}
