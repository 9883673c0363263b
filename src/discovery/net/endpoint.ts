import { VaultMulticastError } from '../errors.js';
import { familyOfGroup, type IpFamily, isMulticastGroup } from './interfaces.js';

/** A checked group and port, as both the listener and the publisher take them. */
export interface Endpoint {
  group: string;
  port: number;
  family: IpFamily;
  /** `group:port`, or `[group]:port` for IPv6, for messages. */
  where: string;
}

/** Validates a multicast group and UDP port; throws VaultMulticastError('EINVAL') with what is wrong. */
export function checkEndpoint(group: string, port: number): Endpoint {
  const family = familyOfGroup(group);
  if (family === undefined || !isMulticastGroup(group.split('%')[0] ?? '')) {
    throw new VaultMulticastError('EINVAL', `group '${group}' is not an IPv4 or IPv6 multicast address`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VaultMulticastError('EINVAL', `port ${port} is not an integer between 1 and 65535`);
  }
  return { group, port, family, where: family === 'IPv6' ? `[${group}]:${port}` : `${group}:${port}` };
}
