/**
 * A scraper in a process of its own, as Prometheus is: the agent's event loop is charged only for serving the
 * scrape, not for reading the 80 MiB body of 100,000 services. Alternates a Prometheus scrape (OpenMetrics,
 * gzip) and a plain-text one, each after a pause (cold, not back to back), and prints one JSON line.
 *   node dist/bench/scrape-client.js <url> <rounds> <pauseMs>
 */
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PROMETHEUS_ACCEPT } from './scrape-fixture.js';

const [url = '', rounds = '5', pauseMs = '1000'] = process.argv.slice(2);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One scrape: the wall time until the last byte arrived and the bytes on the wire (not decompressed). */
function scrape(headers: Record<string, string>): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const gzipMs: number[] = [];
const textMs: number[] = [];
let gzipBytes = 0;
let bodyBytes = 0;
for (let i = 0; i < Number(rounds); i++) {
  await pause(Number(pauseMs));
  const z = await scrape({ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
  gzipMs.push(z.ms);
  gzipBytes = z.bytes;
  await pause(Number(pauseMs));
  const t = await scrape({});
  textMs.push(t.ms);
  bodyBytes = t.bytes;
}
process.stdout.write(`${JSON.stringify({ gzipMs, textMs, gzipBytes, bodyBytes })}\n`);
