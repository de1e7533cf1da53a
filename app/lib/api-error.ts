/**
 * Reads vigil's error body, `{error: message, code}` (the node's and the console's own refusals
 * alike), into a stable code and a sentence. A body of another shape (a proxy in between, an
 * older node that answered `{error: code, message}`) still gives a code and a message. Shared by
 * the server and the browser.
 */
export function readApiError(status: number, statusText: string, body: unknown): { error: string; message: string } {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const isCode = (v: unknown): v is string => typeof v === 'string' && /^[A-Z][A-Z0-9_]+$/.test(v);
  const error = isCode(b.code) ? b.code : isCode(b.error) ? b.error : `HTTP_${status}`;
  const message =
    typeof b.message === 'string'
      ? b.message
      : typeof b.error === 'string' && b.error !== error
        ? b.error
        : statusText || `HTTP ${status}`;
  return { error, message };
}
