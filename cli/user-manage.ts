import { usernameSchema } from '../serving/api/session-routes.ts';
import { readPassword } from './user-add.ts';

async function send(
  url: string,
  method: string,
  path: string,
  bearer: string | undefined,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, url), {
      method,
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(`no vigil node answers at ${url}; user changes go through a running node (--url, or VIGIL_PORT)`);
  }
  const doc = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`the node at ${url} refused: ${String(doc.error ?? res.status)}`);
  return doc;
}

/**
 * `vigil user set NAME [--role R] [--disable | --enable] [--password]`: change a console user.
 * Every change ends the user's open sessions.
 */
export async function userSetCommand(
  url: string,
  username: string,
  change: { role?: string; disabled?: boolean; password: boolean },
  bearer?: string,
): Promise<void> {
  const parsed = usernameSchema.safeParse(username);
  if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
  if (change.role !== undefined && !['viewer', 'operator', 'admin'].includes(change.role)) {
    throw new Error(`--role must be viewer, operator or admin, got ${JSON.stringify(change.role)}`);
  }
  if (change.role === undefined && change.disabled === undefined && !change.password) {
    throw new Error('user set needs --role R, --disable, --enable or --password');
  }
  const body = {
    role: change.role,
    disabled: change.disabled,
    password: change.password ? await readPassword() : undefined,
  };
  const doc = await send(url, 'PATCH', `/api/v1/users/${encodeURIComponent(username)}`, bearer, body);
  console.log(
    `user "${username}": role ${String(doc.role)}, ${doc.disabled ? 'disabled' : 'enabled'}; ${String(doc.sessions_ended)} session(s) ended`,
  );
}

/** `vigil user logout NAME`: end every open session of a console user. */
export async function userLogoutCommand(url: string, username: string, bearer?: string): Promise<void> {
  const doc = await send(url, 'DELETE', `/api/v1/users/${encodeURIComponent(username)}/sessions`, bearer);
  console.log(`user "${username}": ${String(doc.sessions_ended)} session(s) ended`);
}
