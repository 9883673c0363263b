// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected messages quote ${VAR} syntax.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/agent/config/errors.js';
import { loadConfigFile } from '../../src/agent/config/load.js';

const DIR = 'test/fixtures/config/bad';
const SECRETS = resolve('test/fixtures/config/secrets');

// One bad file per failure, each with the exact report a user sees (`vault-multicast agent --check`).
const CASES: [file: string, message: string][] = [
  ['unknown-key.yaml', '4:5: listeners[0].intrfaces: unknown key (did you mean interfaces?)'],
  [
    'wrong-type.yaml',
    '3:11: listeners[0].port: expected a number, got the string "5004" (remove the quotes)',
  ],
  [
    'bad-duration.yaml',
    '4:15: publishers[0].interval: invalid duration "2 seconds"; use a number with a unit, like 500ms, 2s, 5m or 1h (a plain number means seconds)',
  ],
  ['interval-too-short.yaml', '4:15: publishers[0].interval: must be at least 100ms, got 50ms'],
  [
    'bad-group.yaml',
    '2:12: listeners[0].group: 10.0.0.1 is not a multicast address (IPv4 groups are 224.0.0.0 to 239.255.255.255, e.g. 224.1.1.1)',
  ],
  ['port-out-of-range.yaml', '3:11: listeners[0].port: must be at most 65535, got 70000'],
  [
    'duplicate-name.yaml',
    '5:11: listeners[1].name: name "lan" is already used by listeners[0]; names must be unique',
  ],
  [
    'default-name-collision.yaml',
    '5:5: listeners[1]: default name "224.1.1.1:5004" is also that of listeners[0]; give each a distinct name',
  ],
  [
    'bad-cidr.yaml',
    '2:30: security.allowSources[1]: invalid network "10.0.0.0/33": the prefix length must be 0 to 32',
  ],
  [
    'cidr-host-bits.yaml',
    '2:18: security.allowSources[0]: invalid network "192.168.1.7/24": address bits are set beyond the /24 prefix (did you mean 192.168.1.0/24?)',
  ],
  [
    'missing-env.yaml',
    '2:11: http.listen: environment variable POD_IP is not set (give a default with ${POD_IP:-value})',
  ],
  [
    'bad-env-reference.yaml',
    '2:11: listeners[0].name: invalid variable reference "${1NAME}": write ${NAME} or ${NAME:-default} (or $${ for a literal "${")',
  ],
  ['missing-secret.yaml', `3:16: http.auth.tokenFile: cannot read ${SECRETS}/no-such-token: no such file`],
  ['empty-secret.yaml', `5:21: http.auth.basic.passwordFile: ${SECRETS}/empty is empty`],
  [
    'short-key.yaml',
    `6:15: security.signing.keys[0].file: signing key old in ${SECRETS}/short-key is 13 bytes; keys need at least 32 (make one with: openssl rand -base64 48)`,
  ],
  [
    'yaml-syntax.yaml',
    '4:1: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  ['unknown-tag.yaml', '2:12: YAML: Unresolved tag: !ip'],
  ['duplicate-yaml-key.yaml', '4:5: duplicate key "port": each key may appear once per mapping'],
  [
    'interface-and-interfaces.yaml',
    '5:17: publishers[0].interfaces: give either interface or interfaces, not both',
  ],
  [
    'bad-interface.yaml',
    '4:24: listeners[0].interfaces[1]: "my lan" is neither an interface name (1 to 15 characters, no spaces, slashes, commas or colons) nor an IP address',
  ],
  ['duplicate-interface.yaml', '4:24: listeners[0].interfaces[1]: interface eth0 is listed twice'],
  [
    'link-local-v6-no-interface.yaml',
    '2:12: listeners[0].group: IPv6 link-scope group ff02::1:5004 needs exactly one interface name (e.g. interfaces: [eth0])',
  ],
  [
    'admin-without-auth.yaml',
    '3:16: http.enableAdmin: enableAdmin on 0.0.0.0:9477 would let anyone who reaches it change the agent: protect it with http.auth (tokenFile or basic) or listen on a loopback address such as 127.0.0.1',
  ],
  [
    'empty.yaml',
    '1:1: the file is empty; it needs at least a listener or a publisher (see docs/configuration.md)',
  ],
  ['top-level-list.yaml', '1:1: expected a mapping of settings (http, listeners, publishers...), got a list'],
  ['nothing-to-run.yaml', '1:1: nothing to run: add at least one listener or publisher'],
  [
    'signing-without-keys.yaml',
    '3:11: security.signing.mode: signing mode required needs at least one key in security.signing.keys',
  ],
  ['sign-without-keys.yaml', '4:11: publishers[0].sign: sign: true needs a key in security.signing.keys'],
  ['tls-missing-key.yaml', '2:3: http.tls.keyFile: required key is missing'],
  [
    'tls-mismatch.yaml',
    `4:14: http.tls.keyFile: the key in ${SECRETS}/other.key does not belong to the certificate`,
  ],
  [
    'message-too-big.yaml',
    '5:7: publishers[0].message: announcement would be 1459 bytes on the wire (with sequence number and timestamp); listeners read at most 1400 bytes per datagram',
  ],
  [
    'bad-listen.yaml',
    '2:11: http.listen: invalid listen address "::1:9477": put an IPv6 address in brackets, e.g. [::1]:9477',
  ],
  [
    'bad-log-level.yaml',
    '2:10: log.level: expected one of "debug", "info", "warn", "error", got the string "verbose"',
  ],
];

describe('a bad configuration file is reported with file, line, column and key path', () => {
  it.each(CASES)('%s', async (file, expected) => {
    const path = `${DIR}/${file}`;
    const err = await loadConfigFile(path, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`${path}:${expected}`);
    expect((err as ConfigError).problems).toHaveLength(1);
  });

  it('reports every problem of a file at once, in file order', async () => {
    const path = `${DIR}/several-problems.yaml`;
    const err = (await loadConfigFile(path, {}).catch((e: unknown) => e)) as ConfigError;
    expect(err.message.split('\n')).toEqual([
      `${path}:3:3: http.enabelReload: unknown key (did you mean enableReload?)`,
      `${path}:6:11: listeners[0].port: must be at least 1, got 0`,
      `${path}:7:21: listeners[0].serviceTimeout: invalid duration "soon"; use a number with a unit, like 500ms, 2s, 5m or 1h (a plain number means seconds)`,
      `${path}:9:12: publishers[0].group: "224.1.1.256" is not an IP address; a group is a multicast address such as 224.1.1.1 or ff05::1:3`,
      `${path}:11:10: publishers[0].ttl: must be at most 255, got 300`,
    ]);
    expect(err.problems.map((p) => [p.line, p.col, p.path])).toEqual([
      [3, 3, 'http.enabelReload'],
      [6, 11, 'listeners[0].port'],
      [7, 21, 'listeners[0].serviceTimeout'],
      [9, 12, 'publishers[0].group'],
      [11, 10, 'publishers[0].ttl'],
    ]);
  });

  it('covers every fixture in the bad directory', async () => {
    const { readdirSync } = await import('node:fs');
    const tested = new Set([...CASES.map(([f]) => f), 'several-problems.yaml']);
    expect(readdirSync(DIR).filter((f) => !tested.has(f))).toEqual([]);
  });
});
