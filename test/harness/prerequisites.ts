/**
 * vitest globalSetup: before the suite runs, says which groups of tests will be skipped and why, once, so a
 * machine without a prerequisite gets a list of what it did not test instead of silence. The conditions are
 * the ones the test files skip on (imported where they are shared). scripts/setup-dev.sh installs them all.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROMETHEUS } from '../ops/prometheus-server.js';
import { HELM_AVAILABLE, HELM_MISSING } from '../packaging/helm.js';
import { CHROMIUM, CHROMIUM_AVAILABLE } from '../web/browser.js';
import { IN_TEST_NETNS, NETNS_AVAILABLE } from './netns.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SETUP = 'bash scripts/setup-dev.sh installs it';

export function missingPrerequisites(): string[] {
  const onPath = (tool: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(resolve(dir, tool)));
  const missing: [boolean, string][] = [
    [
      !NETNS_AVAILABLE,
      'network namespaces (needs root; VM_NO_NETNS=1 turns them off): the multi-host LAN, interop, fault and ' +
        'Prometheus end-to-end tests',
    ],
    [
      !IN_TEST_NETNS,
      'the throwaway test namespace (npm test and scripts/in-netns.sh run vitest inside it): every test that ' +
        'sends or joins multicast on loopback',
    ],
    [!CHROMIUM_AVAILABLE, `${CHROMIUM} (${SETUP}): the discovery page, accessibility and screenshot tests`],
    [!existsSync(PROMETHEUS), `${PROMETHEUS} (${SETUP}): the tests against a real Prometheus`],
    [!existsSync('/usr/bin/promtool'), `/usr/bin/promtool (${SETUP}): the alert rule and metrics checks`],
    [!HELM_AVAILABLE, `${HELM_MISSING}: the Helm chart tests`],
    [
      !existsSync(resolve(ROOT, '.cache/bin/actionlint')),
      `.cache/bin/actionlint (${SETUP}): the release workflow check`,
    ],
    [!onPath('python3'), `python3 (${SETUP}): the interoperability tests with the Python original`],
    [!existsSync('/usr/bin/systemd-analyze'), '/usr/bin/systemd-analyze: the systemd unit check'],
    ...[22, 24].map((major): [boolean, string] => [
      !existsSync(resolve(ROOT, `.cache/node/${major}/bin/node`)),
      `.cache/node/${major} (${SETUP}): the quick start from the packed tarball on Node ${major}`,
    ]),
    [
      !existsSync(resolve(ROOT, 'dist/src/index.js')),
      'dist/ (npm run build): the tests of the built CLI and package',
    ],
  ];
  return missing.filter(([absent]) => absent).map(([, what]) => what);
}

export default function setup(): void {
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  console.warn(
    `Skipping tests that need what this machine lacks:\n${missing.map((m) => `  - ${m}`).join('\n')}`,
  );
}
