import { NextResponse } from 'next/server';
import { crossOriginRefused, isHttps, isSameOrigin } from '../../lib/same-origin';
import { SESSION_COOKIE, sessionToken } from '../../lib/session-cookie';
import { callVigil } from '../../lib/vigil-api';

/**
 * Ends the session in vigil (so the token is dead even if the cookie survives somewhere), then
 * clears the cookie. The session's CSRF token is read from vigil itself rather than the form.
 */
export async function POST(req: Request): Promise<Response> {
  if (!isSameOrigin(req)) return crossOriginRefused();
  const token = await sessionToken();
  if (token) {
    const current = await callVigil('getCurrentSession', {}, { token });
    const res = await callVigil('logout', {}, { token, csrf: current.ok ? current.data.csrf_token : null });
    if (!res.ok && res.status === 0)
      console.error('vigil console: logout could not reach vigil; the session ends at its expiry');
    else if (!res.ok && res.status !== 401) console.error(`vigil console: logout answered HTTP ${res.status}`);
  }
  const out = new NextResponse(null, { status: 303, headers: { location: '/login' } });
  out.cookies.set(SESSION_COOKIE, '', {
    httpOnly: true,
    sameSite: 'strict',
    secure: isHttps(req),
    path: '/',
    maxAge: 0,
  });
  return out;
}
