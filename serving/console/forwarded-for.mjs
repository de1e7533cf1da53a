// Plain JavaScript: the console's server runs without the TypeScript loader.
import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address. */
export function normalizeAddress(address) {
  const a = String(address ?? '').trim();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * The browser's address. The socket's peer, unless that peer is a trusted proxy: then the
 * X-Forwarded-For hops are walked from the right (each proxy appends the address it saw), and
 * the first address that is not a trusted proxy is the browser's. A browser can put anything in
 * the header it sends, but it cannot change what a trusted proxy appends after it.
 */
export function browserAddress(socketAddress, forwardedFor, trusted) {
  let address = normalizeAddress(socketAddress);
  if (!trusted.has(address) || typeof forwardedFor !== 'string') return address;
  const hops = forwardedFor.split(',').map(normalizeAddress).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) return address;
    address = hops[i];
    if (!trusted.has(address)) return address;
  }
  return address;
}

/**
 * The console's Content-Security-Policy for one response. Scripts run only from this origin
 * and with this response's nonce (Next.js reads it from the request's header and puts it on
 * its own inline scripts); nothing may frame the console, and forms post only to it. Styles
 * allow inline attributes: React renders `style={...}` for bar widths, and a style cannot run
 * code.
 */
export function contentSecurityPolicy(nonce) {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
