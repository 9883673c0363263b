/**
 * Dashboard variables: a Prometheus datasource picker, then job → instance → group → service type, each listing
 * only values that exist under the previous choice (`label_values` over the agent's own metrics).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './panels.js';
import { MATCH, name } from './promql.js';

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

function queryVariable(
  varName: string,
  label: string,
  query: string,
  opts: { multi: boolean; all: boolean },
): dashboard.QueryVariableBuilder {
  const b = new dashboard.QueryVariableBuilder(varName)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(opts.multi)
    .includeAll(opts.all);
  // ".*" rather than Grafana's enumerated default keeps "All" short and includes values that appear later.
  if (opts.all) b.allValue('.*');
  return b;
}

export function jobVariable(): dashboard.QueryVariableBuilder {
  return queryVariable('job', 'Job', `label_values(${name('buildInfo')}, job)`, { multi: false, all: false });
}

export function instanceVariable(): dashboard.QueryVariableBuilder {
  return queryVariable('instance', 'Agent', `label_values(${name('buildInfo')}{${MATCH.job}}, instance)`, {
    multi: true,
    all: true,
  });
}

/** Groups of listeners and of publishers alike. */
export function groupVariable(): dashboard.QueryVariableBuilder {
  const metrics = [name('activeServices'), name('sentPackets')].join('|');
  return queryVariable(
    'group',
    'Group',
    `label_values({__name__=~"${metrics}",${MATCH.job},${MATCH.instance}}, group)`,
    { multi: true, all: true },
  );
}

export function serviceTypeVariable(multi: boolean): dashboard.QueryVariableBuilder {
  return queryVariable(
    'service_type',
    'Service type',
    `label_values(${name('serviceUp')}{${MATCH.job},${MATCH.group}}, service_type)`,
    { multi, all: multi },
  );
}

export function serviceNameVariable(): dashboard.QueryVariableBuilder {
  return queryVariable(
    'service_name',
    'Service',
    `label_values(${name('serviceUp')}{${MATCH.job},${MATCH.group},${MATCH.serviceType}}, service_name)`,
    { multi: false, all: false },
  );
}

/** Several instances of one service name (on different addresses) are told apart by address. */
export function addressVariable(): dashboard.QueryVariableBuilder {
  return queryVariable(
    'address',
    'Address',
    `label_values(${name('serviceUp')}{${MATCH.job},${MATCH.group},${MATCH.serviceType},${MATCH.serviceName}}, address)`,
    { multi: true, all: true },
  );
}
