// The web console's HTTP server: Next.js behind a thin node:http layer that owns what Next.js
// would otherwise take from the browser's own headers. Started by console-process.ts as
//   node console-server.mjs --port P --host H
// with VIGIL_TRUSTED_PROXIES (comma-separated addresses) in its environment.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import next from 'next';
import { browserAddress, contentSecurityPolicy } from './forwarded-for.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
const port = Number(values.port ?? 3000);
const host = values.host ?? '127.0.0.1';
const trusted = new Set(
  (process.env.VIGIL_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const app = next({ dev: false, dir: ROOT, hostname: host, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  const peer = req.socket.remoteAddress ?? '';
  const forwardedFor = req.headers['x-forwarded-for'];
  // Only a trusted proxy may say where the request came from, or which host and scheme the
  // browser used; from anyone else these headers are dropped before Next.js sees them.
  if (!trusted.has(browserAddress(peer, undefined, trusted))) {
    delete req.headers['x-forwarded-host'];
    delete req.headers['x-forwarded-proto'];
  }
  req.headers['x-forwarded-for'] = browserAddress(
    peer,
    Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor,
    trusted,
  );
  const policy = contentSecurityPolicy(randomBytes(16).toString('base64'));
  req.headers['content-security-policy'] = policy;
  res.setHeader('content-security-policy', policy);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  handle(req, res);
});
server.listen(port, host, () => {
  // console-process.ts waits for this line; it names the real port when port 0 was asked for.
  const bound = server.address().port;
  process.stdout.write(`vigil console ready: Local: http://${host.includes(':') ? `[${host}]` : host}:${bound}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
