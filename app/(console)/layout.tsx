import type { ReactNode } from 'react';
import { AutoRefresh } from '../components/auto-refresh';
import { NavLinks } from '../components/nav-links';
import { TimeZoneCookie } from '../components/time-zone-cookie';
import { requireSession } from '../lib/session';

/**
 * Every console page sits behind this layout: no valid session, no page (vigil is asked on each
 * request, so a revoked session ends at once). It carries the session's CSRF token for the
 * browser's changes, and refreshes the page every 5 s.
 */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const session = await requireSession();
  return (
    <>
      <meta name="vigil-csrf" content={session.csrf_token ?? ''} />
      <header className="topbar">
        <span className="brand">vigil</span>
        <nav aria-label="Sections">
          <NavLinks />
        </nav>
        <div className="who">
          <span>
            {session.user.name} <span className="role">{session.user.role}</span>
          </span>
          <form action="/api/logout" method="post">
            <button type="submit">Log out</button>
          </form>
        </div>
      </header>
      <main className="content">{children}</main>
      <AutoRefresh ms={5000} />
      <TimeZoneCookie />
    </>
  );
}
