import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Sign in · vigil console' };

/**
 * Why the last attempt failed, from the code the login handler put in the query string. Messages
 * live here, not in the URL, so a crafted link cannot make the page say anything else.
 */
function errorMessage(q: Record<string, string | string[] | undefined>): string | null {
  const code = typeof q.error === 'string' ? q.error : null;
  const retry = typeof q.retry === 'string' && /^\d+$/.test(q.retry) ? q.retry : null;
  switch (code) {
    case null:
      return null;
    case 'login_failed':
      return 'Unknown user or wrong password.';
    case 'rate_limited':
      return retry ? `Too many failed logins, retry in ${retry} s.` : 'Too many failed logins, retry later.';
    case 'missing':
      return 'Enter a user name and a password.';
    case 'unreachable':
      return 'The console cannot reach vigil; try again in a moment.';
    default:
      return 'Sign-in failed for an unexpected reason; see the console server log.';
  }
}

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const error = errorMessage(await searchParams);
  return (
    <main className="login">
      <h1>vigil console</h1>
      <form action="/api/login" method="post" className="login-form">
        <label>
          User name
          {/* biome-ignore lint/a11y/noAutofocus: the page exists to type a user name into this field */}
          <input name="username" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="result-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
