/**
 * The isolation benchmark's reference for the console condition: a plain node:http server that
 * answers every GET with bytes recorded from vigil's own answers (the console summary, or the
 * series for any path with "series" in it), doing no other work. Ten pollers against it measure
 * what the pollers themselves cost inference on the same machine; what vigil adds is the rest.
 *
 *   node --import tsx bench/static-answer-server.ts --port 8200 --summary FILE --series FILE
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8200' },
    summary: { type: 'string' },
    series: { type: 'string' },
  },
});
const summary = readFileSync(values.summary!);
const series = readFileSync(values.series!);
createServer((req, res) => {
  const body = req.url?.includes('series') ? series : summary;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`static-answer listening on 127.0.0.1:${values.port}\n`);
});
