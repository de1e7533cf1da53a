import 'server-only';
import { cookies } from 'next/headers';

/** The cookie that holds the console session's bearer token (httpOnly: scripts never see it). */
export const SESSION_COOKIE = 'vigil_session';

/** The session token of the request being served, or null when the browser sent none. */
export async function sessionToken(): Promise<string | null> {
  const value = (await cookies()).get(SESSION_COOKIE)?.value;
  return value ? value : null;
}
