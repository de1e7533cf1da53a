import 'server-only';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import type { CurrentSession, Role } from './api-types';
import { sessionToken } from './session-cookie';
import { callVigil } from './vigil-api';

/**
 * Who is signed in, asked of vigil once per request (layout and page share the answer), or null
 * when there is no session cookie or vigil does not accept it.
 */
const currentSession = cache(async (): Promise<CurrentSession | null> => {
  const token = await sessionToken();
  if (!token) return null;
  const res = await callVigil('getCurrentSession', {}, { token });
  return res.ok ? res.data : null;
});

/** The signed-in session; without one, the request goes to the login page. */
export async function requireSession(): Promise<CurrentSession> {
  const session = await currentSession();
  if (!session) redirect('/login');
  return session;
}

/** Operators and admins may act; viewers only read. vigil checks again on every change. */
export function canOperate(role: Role): boolean {
  return role === 'operator' || role === 'admin';
}
