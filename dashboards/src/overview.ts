/**
 * Fleet overview: is discovery healthy everywhere, and if not, where does it break — services, traffic and
 * errors per listener, publishers, memberships and reloads, and the visibility matrix that shows which agent
 * sees which service (a multicast partition or an IGMP-snooping black hole shows up as a hole in it).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { newDashboard, type Section, withSections } from './layout.js';
import { states, stateTimeline, statPanel, tablePanel, thresholds, timeSeries } from './panels.js';
import {
  MATCH,
  NOT_PROBLEM_REASONS,
  partiallyVisible,
  problemRatio,
  rate,
  sel,
  sumRateOrZero,
} from './promql.js';
import {
  datasourceVariable,
  groupVariable,
  instanceVariable,
  jobVariable,
  serviceTypeVariable,
} from './variables.js';

export const OVERVIEW_UID = 'vault-multicast-overview';

const SERVICE_ID = 'service_type, service_name, address';
const LISTENER_ID = 'instance, listener, group, port';
const PUBLISHER_ID = 'instance, publisher, group, port';
const UP_STALE = states({ 1: ['up', 'green'], 0: ['stale', 'red'] });
const GOOD_IS_ZERO = (bad: string) => thresholds([null, 'green'], [1, bad]);

function fleet(): Section {
  const tile = { w: 4, h: 4 };
  const perService = `max by (${SERVICE_ID}) (${sel('serviceUp', 'service')})`;
  return {
    title: 'Fleet health',
    panels: [
      statPanel(
        'Agents up',
        'Agents Prometheus scrapes successfully.',
        'none',
        { expr: `sum(up{${MATCH.job},${MATCH.instance}})` },
        tile,
      ),
      statPanel(
        'Services up',
        'Distinct services (type, name, address) up on at least one agent.',
        'none',
        { expr: `count(${perService} == 1) or vector(0)` },
        tile,
      ),
      statPanel(
        'Services stale everywhere',
        'Services every agent that tracks them reports stale (service_up 0 during the retention window).',
        'none',
        { expr: `count(${perService} == 0) or vector(0)` },
        tile,
      ).thresholds(GOOD_IS_ZERO('orange')),
      statPanel(
        'Partially visible services',
        'Services up on some of the agents listening on their group but not on others ' +
          '(alert VaultMulticastServicePartiallyVisible).',
        'none',
        { expr: `count(\n${partiallyVisible()}\n) or vector(0)` },
        tile,
      ).thresholds(GOOD_IS_ZERO('red')),
      statPanel(
        'Failed memberships',
        'Listener and interface pairs that do not hold their group membership.',
        'none',
        { expr: `count(${sel('groupMembership', 'endpoint')} == 0) or vector(0)` },
        tile,
      ).thresholds(GOOD_IS_ZERO('red')),
      statPanel(
        'Failed reloads',
        'Agents whose last configuration reload was rejected (they keep running the previous configuration).',
        'none',
        { expr: `count(${sel('configReloadSuccessful', 'agent')} == 0) or vector(0)` },
        tile,
      ).thresholds(GOOD_IS_ZERO('orange')),
    ],
  };
}

function services(): Section {
  const perService = `max by (${SERVICE_ID}) (${sel('serviceUp', 'service')})`;
  const matrix = `max by (instance, ${SERVICE_ID}) (${sel('serviceUp', 'service')})`;
  return {
    title: 'Services',
    panels: [
      timeSeries(
        'Services by type',
        'Distinct services up on at least one agent, and services stale on every agent that tracks them.',
        'none',
        [
          { expr: `count by (service_type) (${perService} == 1)`, legend: '{{service_type}} up' },
          { expr: `count by (service_type) (${perService} == 0)`, legend: '{{service_type}} stale' },
        ],
        { w: 12, h: 8 },
      ),
      timeSeries(
        'Services tracked per agent',
        'Services each agent tracks, by state: up, stale (kept for the retention window), gone (said goodbye).',
        'none',
        [
          {
            expr: `sum by (instance, state) (${sel('services', 'endpoint')})`,
            legend: '{{instance}} {{state}}',
          },
        ],
        { w: 12, h: 8 },
      ),
      tablePanel(
        'Visibility matrix',
        'Which agent (column) sees which service (row): up, stale, or not seen. A column of gaps is an agent cut ' +
          'off from the group; a row of gaps is a service only part of the network hears.',
        'none',
        [{ expr: `label_join(${matrix}, "service", " ", "service_type", "service_name", "address")` }],
        { w: 24, h: 10 },
      )
        .mappings([
          ...UP_STALE,
          {
            type: dashboard.MappingType.SpecialValue,
            options: {
              match: dashboard.SpecialValueMatch.Null,
              result: { text: 'not seen', color: 'orange', index: 2 },
            },
          },
        ])
        .cellOptions({ type: common.TableCellDisplayMode.ColorBackground })
        .withTransformation({
          id: 'groupingToMatrix',
          options: { columnField: 'instance', rowField: 'service', valueField: 'Value', emptyValue: 'null' },
        }),
      stateTimeline(
        'Visibility over time',
        'service_up per service and agent: a partition shows red on some agents while the others stay green.',
        'none',
        [
          {
            expr: `max by (instance, service_type, service_name) (${sel('serviceUp', 'service')})`,
            legend: '{{service_type}} {{service_name}} @ {{instance}}',
          },
        ],
        UP_STALE,
        { w: 12, h: 10 },
      ),
      tablePanel(
        'Partially visible services',
        'Services up on fewer agents than listen on their group, with the number of agents that see them.',
        'none',
        [{ expr: partiallyVisible() }],
        { w: 12, h: 10 },
      ).withTransformation({
        id: 'organize',
        options: { excludeByName: { Time: true }, renameByName: { Value: 'agents seeing it' } },
      }),
    ],
  };
}

function traffic(): Section {
  return {
    title: 'Traffic and errors',
    panels: [
      timeSeries(
        'Received per listener',
        'Datagrams per second each listener receives.',
        'pps',
        [
          {
            expr: `sum by (${LISTENER_ID}) (${rate('receivedPackets', 'endpoint')})`,
            legend: '{{instance}} {{listener}} ({{group}}:{{port}})',
          },
        ],
        { w: 12, h: 8 },
      ),
      timeSeries(
        'Received bytes per group',
        'Bytes per second received on each group, summed over the agents.',
        'Bps',
        [
          {
            expr: `sum by (group, port) (${rate('receivedBytes', 'endpoint')})`,
            legend: '{{group}}:{{port}}',
          },
        ],
        { w: 12, h: 8 },
      ),
      timeSeries(
        'Error ratio per listener',
        'Errors (what the Python original counts: invalid UTF-8 or JSON, not an object, callback and socket ' +
          'errors; plus safety drops: size, nesting, text length, admission refusals) as a share of datagrams ' +
          'plus errors; the alert VaultMulticastHighErrorRate fires above 5%. JSON objects that are not ' +
          'services (missing_type, missing_addr), filtered, duplicate and service_limit drops do not count.',
        'percentunit',
        [{ expr: problemRatio(), legend: '{{instance}} {{listener}}' }],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Error drops by reason',
        'Datagrams dropped as errors, per second, by reason (docs/metrics.md lists them). Drops that are not ' +
          'errors are under Not services and ignored fields, or have their own alert.',
        'pps',
        [
          {
            expr: `sum by (reason) (${rate('droppedPackets', 'endpoint', `reason!~"${NOT_PROBLEM_REASONS}"`)})`,
            legend: '{{reason}}',
          },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Receive errors by reason',
        'Socket errors and callback failures of listeners per second (a flat zero when there are none).',
        'pps',
        [
          {
            expr: sumRateOrZero(
              'receiveErrors',
              'instance, listener, reason',
              'receivedPackets',
              'instance, listener',
            ),
            legend: '{{instance}} {{listener}} {{reason}}',
          },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Kernel drops',
        'Datagrams per second the kernel dropped because a listener socket receive buffer was full.',
        'pps',
        [
          {
            expr: sumRateOrZero('kernelDrops', 'instance, listener', 'receivedPackets', 'instance, listener'),
            legend: '{{instance}} {{listener}}',
          },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Not services and ignored fields',
        'Not errors. JSON objects without a type or an address, per second (delivered to applications, as the ' +
          'Python original does), and accepted announcements with a field whose value could not be used (a ' +
          'string ttl, an ISO timestamp), by field.',
        'pps',
        [
          {
            expr: `sum by (reason) (${rate('droppedPackets', 'endpoint', 'reason=~"missing_type|missing_addr"')})`,
            legend: 'not a service: {{reason}}',
          },
          { expr: `sum by (field) (${rate('ignoredFields', 'endpoint')})`, legend: 'ignored: {{field}}' },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Receive buffer',
        'SO_RCVBUF the kernel granted each listener socket (capped by net.core.rmem_max).',
        'bytes',
        [
          {
            expr: `max by (${LISTENER_ID}) (${sel('receiveBuffer', 'endpoint')})`,
            legend: '{{instance}} {{listener}}',
          },
        ],
        { w: 8, h: 8 },
      ),
    ],
  };
}

function publishers(): Section {
  return {
    title: 'Publishers',
    panels: [
      timeSeries(
        'Sent per publisher',
        'Announcements per second each publisher sends.',
        'pps',
        [
          {
            expr: `sum by (${PUBLISHER_ID}) (${rate('sentPackets', 'endpoint')})`,
            legend: '{{instance}} {{publisher}} ({{group}}:{{port}})',
          },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Sent bytes per group',
        'Bytes per second of announcements sent to each group, summed over the agents.',
        'Bps',
        [{ expr: `sum by (group, port) (${rate('sentBytes', 'endpoint')})`, legend: '{{group}}:{{port}}' }],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Send failures by reason',
        'Failed sends per second by error code (a flat zero when there are none).',
        'pps',
        [
          {
            expr: sumRateOrZero(
              'sendErrors',
              'instance, publisher, reason',
              'sentPackets',
              'instance, publisher',
            ),
            legend: '{{instance}} {{publisher}} {{reason}}',
          },
        ],
        { w: 8, h: 8 },
      ),
      timeSeries(
        'Time since last successful send',
        'Seconds since each publisher last sent an announcement; it should stay near the publisher interval.',
        's',
        [
          {
            expr: `time() - max by (${PUBLISHER_ID}) (${sel('lastSent', 'endpoint')} > 0)`,
            legend: '{{instance}} {{publisher}}',
          },
        ],
        { w: 24, h: 8 },
      ),
    ],
  };
}

function agents(): Section {
  return {
    title: 'Agents',
    panels: [
      stateTimeline(
        'Group membership',
        'Whether each listener holds its group membership on each interface.',
        'none',
        [
          {
            expr: `max by (instance, listener, group, interface) (${sel('groupMembership', 'endpoint')})`,
            legend: '{{instance}} {{listener}} {{interface}}',
          },
        ],
        states({ 1: ['joined', 'green'], 0: ['failed', 'red'] }),
        { w: 12, h: 8 },
      ),
      stateTimeline(
        'Configuration reload',
        'Whether the last configuration reload of each agent succeeded.',
        'none',
        [{ expr: `max by (instance) (${sel('configReloadSuccessful', 'agent')})`, legend: '{{instance}}' }],
        states({ 1: ['ok', 'green'], 0: ['failed', 'red'] }),
        { w: 12, h: 8 },
      ),
      tablePanel(
        'Agent versions',
        'Version of each agent and of the Node.js running it.',
        'none',
        [{ expr: `max by (instance, version, nodejs_version) (${sel('buildInfo', 'agent')})` }],
        { w: 12, h: 8 },
      ).withTransformation({ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }),
      tablePanel(
        'Last successful configuration load',
        'When each agent last loaded its configuration successfully (at start or on reload).',
        'dateTimeAsIso',
        [{ expr: `max by (instance) (${sel('configReloadTimestamp', 'agent')}) * 1000` }],
        { w: 12, h: 8 },
      ).withTransformation({
        id: 'organize',
        options: { excludeByName: { Time: true }, renameByName: { Value: 'loaded at' } },
      }),
    ],
  };
}

export function overviewDashboard(): dashboard.Dashboard {
  const builder = newDashboard(
    'Vault Multicast / Overview',
    OVERVIEW_UID,
    'Fleet health of vault-multicast agents: services and who sees them, traffic, errors, publishers, agents.',
  )
    .withVariable(datasourceVariable())
    .withVariable(jobVariable())
    .withVariable(instanceVariable())
    .withVariable(groupVariable())
    .withVariable(serviceTypeVariable(true));
  return withSections(builder, [fleet(), services(), traffic(), publishers(), agents()]);
}
