/**
 * One service as the fleet sees it: up/down history on every agent, when it was last heard, how old its
 * announcements are on arrival (clock skew plus delay), announcements lost on the way, and the versions seen.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { newDashboard, type Section, withSections } from './layout.js';
import { states, stateTimeline, statPanel, tablePanel, thresholds, timeSeries } from './panels.js';
import { MATCH, type MetricKey, RATE, sel } from './promql.js';
import {
  addressVariable,
  datasourceVariable,
  groupVariable,
  instanceVariable,
  jobVariable,
  serviceNameVariable,
  serviceTypeVariable,
} from './variables.js';

export const SERVICE_UID = 'vault-multicast-service';

/** The selected service's series of a per-service metric. */
function svc(key: MetricKey): string {
  return sel(key, 'service', MATCH.serviceName, MATCH.address);
}

function status(): Section {
  const tile = { w: 6, h: 4 };
  return {
    title: 'Status',
    panels: [
      statPanel(
        'Agents seeing it up',
        'Agents on which the service is up now.',
        'none',
        { expr: `sum(max by (instance) (${svc('serviceUp')}))` },
        tile,
      ),
      statPanel(
        'Agents reporting it stale',
        'Agents on which the service went stale and is kept for the retention window.',
        'none',
        { expr: `count(max by (instance) (${svc('serviceUp')}) == 0) or vector(0)` },
        tile,
      ).thresholds(thresholds([null, 'green'], [1, 'red'])),
      statPanel(
        'Last seen',
        'The most recent announcement any agent received from the service.',
        'dateTimeFromNow',
        { expr: `max(${svc('serviceLastSeen')}) * 1000` },
        tile,
      ),
      statPanel(
        'Lost announcements',
        'Announcements missed in the selected time range, from gaps in the sequence numbers, summed over agents.',
        'none',
        { expr: `sum(increase(${svc('serviceLost')}[$__range]))` },
        tile,
      ).thresholds(thresholds([null, 'green'], [1, 'orange'])),
      stateTimeline(
        'Up/down history per agent',
        'service_up on every agent: green while it announces, red once stale (until the retention window ends).',
        'none',
        [{ expr: `max by (instance) (${svc('serviceUp')})`, legend: '{{instance}}' }],
        states({ 1: ['up', 'green'], 0: ['stale', 'red'] }),
        { w: 24, h: 8 },
      ),
    ],
  };
}

function announcements(): Section {
  return {
    title: 'Announcements',
    panels: [
      timeSeries(
        'Time since last announcement',
        'Seconds since each agent last heard the service; a sawtooth below the announcement interval is healthy.',
        's',
        [{ expr: `time() - max by (instance) (${svc('serviceLastSeen')})`, legend: '{{instance}}' }],
        { w: 12, h: 8 },
      ),
      timeSeries(
        'Announcement age on arrival',
        'Receive time minus the timestamp the sender put in the announcement (the optional `timestamp` field): ' +
          "network delay plus clock skew; negative when the sender's clock is ahead. Only while the timestamp " +
          'behaves like a sending time (it advances, or comes with seq); one set once has no age.',
        's',
        [{ expr: `max by (instance) (${svc('serviceAge')})`, legend: '{{instance}}' }],
        { w: 12, h: 8 },
        { signed: true },
      ).noValue('no sending time: no timestamp, or one that does not advance'),
      timeSeries(
        'Lost announcements',
        'Announcements per second missed on the way to each agent, from gaps in the sequence numbers.',
        'pps',
        [{ expr: `sum by (instance) (rate(${svc('serviceLost')}[${RATE}]))`, legend: '{{instance}}' }],
        { w: 12, h: 8 },
      ),
      timeSeries(
        'Agents per version',
        'How many agents see each announced version: a rollout shows as one line handing over to the next.',
        'none',
        [
          {
            expr: `count by (version) (max by (instance, version) (${svc('serviceInfo')}))`,
            legend: '{{version}}',
          },
        ],
        { w: 12, h: 8 },
      ),
      tablePanel(
        'Versions and addresses',
        'The version and address of the service as each agent sees it now.',
        'none',
        [{ expr: `max by (instance, service_name, address, version) (${svc('serviceInfo')})` }],
        { w: 24, h: 8 },
      ).withTransformation({ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }),
    ],
  };
}

export function serviceDashboard(): dashboard.Dashboard {
  const builder = newDashboard(
    'Vault Multicast / Service',
    SERVICE_UID,
    'One discovered service across the fleet: up/down history, last seen, announcement age, losses, versions.',
  )
    .withVariable(datasourceVariable())
    .withVariable(jobVariable())
    .withVariable(instanceVariable())
    .withVariable(groupVariable())
    .withVariable(serviceTypeVariable(false))
    .withVariable(serviceNameVariable())
    .withVariable(addressVariable());
  return withSections(builder, [status(), announcements()]);
}
