/** Code blocks of the README, so tests run what users copy rather than a private variant of it. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const README = resolve(import.meta.dirname, '../../README.md');

/** The first ```lang block after the heading `## title`. */
export function readmeBlock(title: string, lang: string): string {
  const readme = readFileSync(README, 'utf8');
  const section = readme.indexOf(`\n## ${title}\n`);
  if (section < 0) throw new Error(`README has no section "## ${title}"`);
  const fence = `\`\`\`${lang}\n`;
  const start = readme.indexOf(fence, section);
  const end = readme.indexOf('```', start + fence.length);
  if (start < 0 || end < 0) throw new Error(`README section "${title}" has no ${lang} block`);
  return readme.slice(start + fence.length, end);
}
