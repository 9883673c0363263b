/**
 * PromQL building blocks of the dashboards. Metric names come only from METRICS (src/metrics/names.ts), so
 * renaming a metric changes the generated JSON and fails the committed-JSON check instead of silently emptying
 * a panel in somebody's Grafana.
 */

import { NOT_ERROR_REASONS } from '../../src/discovery/drop-reasons.js';
import { METRICS, type MetricKey } from '../../src/metrics/names.js';

export type { MetricKey };

/** The range every rate() uses: Grafana's `$__rate_interval` is at least four scrape intervals. */
export const RATE = '$__rate_interval';

/** Label matchers that each dashboard variable contributes. */
export const MATCH = {
  job: 'job=~"$job"',
  instance: 'instance=~"$instance"',
  group: 'group=~"$group"',
  serviceType: 'service_type=~"$service_type"',
  // Single-valued: Grafana leaves it unescaped unless asked, and service names may hold regex characters.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
  serviceName: 'service_name=~"${service_name:regex}"',
  address: 'address=~"$address"',
} as const;

/** Which variables narrow a metric, by what its labels allow. */
export type Scope = 'agent' | 'endpoint' | 'service';

const SCOPES: Record<Scope, readonly string[]> = {
  // agent-wide metrics (build info, reloads) have no group label
  agent: [MATCH.job, MATCH.instance],
  // listeners and publishers
  endpoint: [MATCH.job, MATCH.instance, MATCH.group],
  service: [MATCH.job, MATCH.instance, MATCH.group, MATCH.serviceType],
};

export function name(key: MetricKey): string {
  return METRICS[key].name;
}

/** `metric{job=~"$job",…,extra…}` for the scope's variables plus any extra matchers. */
export function sel(key: MetricKey, scope: Scope, ...extra: string[]): string {
  return `${name(key)}{${[...SCOPES[scope], ...extra].join(',')}}`;
}

export function rate(key: MetricKey, scope: Scope, ...extra: string[]): string {
  return `rate(${sel(key, scope, ...extra)}[${RATE}])`;
}

/**
 * `sum by (labels) (rate(…))`, or a zero per listener or publisher when the counter has no series yet: error
 * counters only appear once something failed, and a flat zero says "no errors" where an empty panel would leave
 * the reader wondering whether the agent is scraped at all.
 */
export function sumRateOrZero(key: MetricKey, by: string, zeroFrom: MetricKey, zeroBy: string): string {
  return (
    `sum by (${by}) (${rate(key, 'endpoint')})\n` +
    `or\n0 * sum by (${zeroBy}) (${rate(zeroFrom, 'endpoint')})`
  );
}

/**
 * Drop reasons that are not errors, as a regex: the one definition of src/discovery/drop-reasons.ts, also used by the
 * VaultMulticastHighErrorRate alert (test/ops/alert-rules.test.ts checks they agree).
 */
export const NOT_PROBLEM_REASONS = NOT_ERROR_REASONS.join('|');

/** Errors (what the original counts plus safety drops, and receive errors) as a share of datagrams plus errors. */
export function problemRatio(): string {
  const by = 'instance, listener, group, port';
  const errors = sumRateOrZero('receiveErrors', by, 'receivedPackets', by);
  const drops =
    `sum by (${by}) (${rate('droppedPackets', 'endpoint', `reason!~"${NOT_PROBLEM_REASONS}"`)})\n` +
    `or\n0 * sum by (${by}) (${rate('receivedPackets', 'endpoint')})`;
  const received = `sum by (${by}) (${rate('receivedPackets', 'endpoint')})`;
  return `(\n(${drops})\n+ on (${by})\n(${errors})\n)\n/ on (${by})\n(${received} + on (${by}) (${errors}))`;
}

/**
 * Services up on fewer agents than listen on their group: the VaultMulticastServicePartiallyVisible alert's
 * expression, narrowed by the dashboard variables. The value is the number of agents that see the service.
 */
export function partiallyVisible(): string {
  const id = 'service_type, service_name, address';
  return (
    `count by (group, port, ${id}) (\n` +
    `  max by (instance, group, port, ${id}) (${sel('serviceUp', 'service')}) == 1\n` +
    `)\n< on (group, port) group_left\n` +
    `count by (group, port) (max by (instance, group, port) (${sel('activeServices', 'endpoint')}))`
  );
}
