/**
 * What a listener or publisher does with its `meter` option. The instruments are built from the metric
 * catalogue, which lives a room above (src/metrics/) because the agent's exporters share it; this room loads
 * only Node's standard library, so it does not import them. src/metrics/otel-instruments.ts provides them
 * when it loads, and the package entry (src/index.ts) loads it: `new VaultMultiListener({ meter })` from
 * 'vault-multicast' works as it always did.
 */
import type { Meter } from '@opentelemetry/api';
import { VaultMulticastError } from './errors.js';

export interface MeterInstruments {
  listener(meter: Meter, listener: object): void;
  publisher(meter: Meter, publisher: object): void;
}

let provided: MeterInstruments | undefined;

export function provideInstruments(instruments: MeterInstruments): void {
  provided = instruments;
}

export function meterInstruments(): MeterInstruments {
  if (!provided) {
    throw new VaultMulticastError(
      'EINVAL',
      "the meter option needs the OpenTelemetry instruments, which the package entry 'vault-multicast' provides",
    );
  }
  return provided;
}
