/** Two hosts on a LAN for one test: destroyed when the test finishes, whatever its outcome. */
import { onTestFinished } from 'vitest';
import { createLan, type Host, type Lan } from '../harness/netns.js';

export async function lanPair(): Promise<{ lan: Lan; a: Host; b: Host }> {
  const lan = await createLan({ hosts: 2 });
  onTestFinished(() => lan.destroy());
  const [a, b] = lan.hosts;
  if (!a || !b) throw new Error('createLan returned fewer than two hosts');
  return { lan, a, b };
}
