import { usernameSchema } from '../contract/control/access.ts';
import { userRole } from '../contract/control/common.ts';
import { callNode } from './node-client.ts';
import { readPassword } from './user-add.ts';

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
  const role = change.role === undefined ? undefined : userRole.safeParse(change.role).data;
  if (change.role !== undefined && role === undefined)
    throw new Error(`--role must be viewer, operator or admin, got ${JSON.stringify(change.role)}`);
  if (change.role === undefined && change.disabled === undefined && !change.password) {
    throw new Error('user set needs --role R, --disable, --enable or --password');
  }
  const body = {
    role,
    disabled: change.disabled,
    password: change.password ? await readPassword() : undefined,
  };
  const doc = await callNode(url, bearer, 'updateUser', { params: { name: username }, body });
  console.log(
    `user "${username}": role ${doc.role}, ${doc.disabled ? 'disabled' : 'enabled'}; ${doc.sessions_ended} session(s) ended`,
  );
}

/** `vigil user logout NAME`: end every open session of a console user. */
export async function userLogoutCommand(url: string, username: string, bearer?: string): Promise<void> {
  const doc = await callNode(url, bearer, 'endUserSessions', { params: { name: username } });
  console.log(`user "${username}": ${doc.sessions_ended} session(s) ended`);
}
