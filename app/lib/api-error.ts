/**
 * Reads vigil's error body into a stable code and a sentence. The contract says
 * `{error: code, message}`; the ingress has long answered `{error: message, code}`. Both are read,
 * so either shape gives the code and the message. Shared by the server and the browser.
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
