/**
 * Whether a state-changing request came from a page of this console: its `Origin` must name the
 * host the request was sent to. Browsers always send `Origin` on POST, PUT and DELETE, and a
 * cross-site page cannot forge it, so this stops cross-site form posts riding on the cookie.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (!origin || origin === 'null') return false;
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  if (!host) return false;
  try {
    return new URL(origin).host === host.split(',')[0]!.trim();
  } catch {
    return false;
  }
}

/** Whether the browser reached the console over https (directly or through a TLS proxy). */
export function isHttps(req: Request): boolean {
  const forwarded = req.headers.get('x-forwarded-proto');
  if (forwarded) return forwarded.split(',')[0]!.trim() === 'https';
  return new URL(req.url).protocol === 'https:';
}

/** The 403 for a request from another origin, in vigil's error shape. */
export function crossOriginRefused(): Response {
  return Response.json(
    {
      error: 'cross-origin request refused: the Origin header does not match this console',
      code: 'VIGIL_ERR_FORBIDDEN',
    },
    { status: 403 },
  );
}

/** The browser's address as the console saw it (Next.js fills x-forwarded-for from the socket). */
export function clientAddress(req: Request): string | null {
  return req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || null;
}
