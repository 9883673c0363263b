/**
 * Headless Debian Chromium driven by playwright-core, for the page tests. Every launch gets a fresh profile
 * directory (removed on close) and the switches that keep Chromium from calling home, so a test run talks
 * only to the agent under test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Messages of every JavaScript dialog (alert, confirm, prompt) the page tried to open. */
  readonly dialogs: string[];
  /** Uncaught exceptions and console errors of the page. */
  readonly errors: string[];
  /** Every URL the page requested. */
  readonly requests: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
}

export async function openPage(url: string, opts: OpenOptions = {}): Promise<OpenedPage> {
  const profile = await mkdtemp(join(tmpdir(), 'vm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs: string[] = [];
  const errors: string[] = [];
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return {
    page,
    context,
    dialogs,
    errors,
    requests,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
