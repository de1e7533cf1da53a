import type { ServerResponse } from 'node:http';
import { isVigilError, VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * The one adapter from domain errors to HTTP: `{"error": "...", "code": "VIGIL_ERR_..."}` as the
 * inference protocol asks, plus the stable code. Unknown errors are logged with their stack and
 * answered with a generic 500, never with their own message.
 */
export function toVigilError(err: unknown, log: Logger): VigilError {
  if (isVigilError(err)) return err;
  log.error({ err }, 'unexpected error while handling a request');
  return new VigilError('VIGIL_ERR_INTERNAL');
}

export function sendError(res: ServerResponse, err: VigilError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: err.message, code: err.code });
  res.writeHead(err.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...err.headers,
    ...extraHeaders,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  doc: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
