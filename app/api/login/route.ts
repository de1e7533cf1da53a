import { NextResponse } from 'next/server';
import { readAnswer } from '../../../contract/control/client';
import { controlApi } from '../../../contract/control-api';
import { clientAddress, crossOriginRefused, isHttps, isSameOrigin } from '../../lib/same-origin';
import { SESSION_COOKIE } from '../../lib/session-cookie';
import { vigilRequest } from '../../lib/vigil-api';

function seeOther(location: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location } });
}

function backToLogin(error: string, extra: Record<string, string> = {}): NextResponse {
  return seeOther(`/login?${new URLSearchParams({ error, ...extra })}`);
}

/**
 * The login form posts here: vigil checks the password and opens a session, whose token goes
 * into an httpOnly, same-site cookie. The browser never sees the token, only the cookie.
 */
export async function POST(req: Request): Promise<Response> {
  if (!isSameOrigin(req)) return crossOriginRefused();
  const form = await req.formData().catch(() => null);
  const username = String(form?.get('username') ?? '').trim();
  const password = String(form?.get('password') ?? '');
  if (!username || !password) return backToLogin('missing');

  let res: Response;
  try {
    res = await vigilRequest(controlApi.login.path, {
      method: 'POST',
      token: null,
      contentType: 'application/json',
      body: JSON.stringify({ username, password }),
      clientAddress: clientAddress(req),
    });
  } catch {
    return backToLogin('unreachable');
  }
  if (res.status === 401) return backToLogin('login_failed');
  if (res.status === 429) {
    const retry = Number(res.headers.get('retry-after'));
    return backToLogin('rate_limited', Number.isFinite(retry) && retry > 0 ? { retry: String(Math.ceil(retry)) } : {});
  }
  // The Retry-After header above is why this call is made raw; its answer is still read by the contract.
  const answer = readAnswer(controlApi.login, res, await res.text().catch(() => ''));
  if (!answer.ok) {
    console.error(`vigil console: login answered HTTP ${res.status} (${answer.error}: ${answer.message})`);
    return backToLogin('unexpected');
  }
  const session = answer.data;
  const out = seeOther('/executive');
  const expires = new Date(session.expires_at);
  out.cookies.set(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: isHttps(req),
    path: '/',
    ...(Number.isNaN(expires.getTime()) ? {} : { expires }),
  });
  return out;
}
