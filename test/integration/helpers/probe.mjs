// A listener or publisher from the built library (dist/), run inside a host namespace by a test. It prints
// one JSON line per event on stdout and obeys one command per line on stdin:
//   metrics | memberships | update <json message> | announce | stop
// Usage: node probe.mjs listen|publish '<options as JSON>'
import { createInterface } from 'node:readline';

const lib = await import(new URL('../../../dist/src/index.js', import.meta.url).href);
const [mode, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}');

function out(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

const brief = (rec) => ({
  key: rec.key,
  type: rec.type,
  name: rec.name,
  addr: rec.addr,
  state: rec.state,
  source: rec.source,
});

let node;
if (mode === 'listen') {
  node = new lib.VaultMultiListener(options);
  node.on('message', (data, a, source) => out('message', { data, addr: a?.addr, source }));
  node.on('up', (rec) => out('up', brief(rec)));
  node.on('down', (rec, reason) => out('down', { ...brief(rec), reason }));
  node.on('drop', (reason, source, detail) => out('drop', { reason, source, detail }));
} else if (mode === 'publish') {
  node = new lib.VaultMultiPublisher(options);
  node.on('sent', (bytes, iface) => out('sent', { bytes, iface }));
} else {
  out('usage', { message: 'node probe.mjs listen|publish <json>' });
  process.exit(2);
}
node.on('socketError', (p) => out('socketError', p));
node.on('warning', (message) => out('warning', { message }));

try {
  await node.start();
  out('started', mode === 'listen' ? { memberships: node.memberships() } : {});
} catch (err) {
  out('startError', { code: err.code, message: err.message });
  process.exit(1);
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...rest] = line.trim().split(' ');
  if (cmd === 'metrics') out('metrics', { metrics: node.getMetrics() });
  else if (cmd === 'memberships') out('memberships', { memberships: node.memberships() });
  else if (cmd === 'announce') await node.announce();
  else if (cmd === 'update') {
    try {
      node.updateMessage(JSON.parse(rest.join(' ')));
      out('updated');
    } catch (err) {
      out('updateError', { code: err.code, message: err.message });
    }
  } else if (cmd === 'stop') break;
}
await node.stop();
out('stopped');
process.exit(0);
