import { z } from 'zod';
import { controlSchemas, numericId, pathName, role, timestamp, userRole } from './common.ts';
import { route } from './route.ts';

export const usernameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, {
  error: 'usernames are 1-64 letters, digits, ".", "_", "@" or "-"',
});

/**
 * POST /api/v1/sessions answers this. The console sends `x-forwarded-for` (the browser's address,
 * recorded with the login) and marks every call it makes with `x-vigil-console: 1`: vigil then
 * never treats a call without a session as a trusted loopback caller.
 */
export const sessionCreated = z
  .object({
    token: z.string().describe('send as `Authorization: Bearer <token>`; starts with vgs_'),
    csrf_token: z.string().describe('send as x-vigil-csrf on every change made with this session'),
    expires_at: timestamp,
    user: z.object({ name: z.string(), role: userRole }),
  })
  .register(controlSchemas, { id: 'SessionCreated' });
export type SessionCreated = z.infer<typeof sessionCreated>;

export const currentSession = z
  .object({
    user: z.object({ name: z.string(), role }),
    expires_at: timestamp.nullable().describe('null for API tokens'),
    csrf_token: z.string().nullable().describe('null for API tokens'),
  })
  .register(controlSchemas, { id: 'CurrentSession' });
export type CurrentSession = z.infer<typeof currentSession>;

export const apiToken = z
  .object({
    id: z.number().int(),
    name: z.string(),
    role,
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
  })
  .register(controlSchemas, { id: 'ApiToken' });

export const user = z
  .object({
    id: z.number().int(),
    username: z.string(),
    role: userRole,
    createdAt: timestamp,
    disabledAt: timestamp.nullable(),
    lastLoginAt: timestamp.nullable(),
  })
  .register(controlSchemas, { id: 'User' });

const userName = z.object({ name: pathName });

export const accessRoutes = {
  createToken: route({
    method: 'POST',
    path: '/api/v1/tokens',
    access: 'admin',
    tag: 'access',
    summary: 'Create an API token (its secret is shown once)',
    body: z.strictObject({ name: z.string().min(1).max(100), role }),
    status: 201,
    response: z.object({ id: z.number().int(), name: z.string(), role, token: z.string() }),
  }),
  listTokens: route({
    method: 'GET',
    path: '/api/v1/tokens',
    access: 'admin',
    tag: 'access',
    summary: 'API tokens (never their secrets)',
    status: 200,
    response: z.object({ tokens: z.array(apiToken) }),
  }),
  revokeToken: route({
    method: 'DELETE',
    path: '/api/v1/tokens/{id}',
    access: 'admin',
    tag: 'access',
    summary: 'Revoke an API token',
    params: z.object({ id: numericId }),
    status: 204,
  }),
  login: route({
    method: 'POST',
    path: '/api/v1/sessions',
    access: 'public',
    tag: 'access',
    summary: 'Log in; failures are rate-limited per user and per address (429 with Retry-After)',
    body: z.strictObject({ username: z.string().min(1).max(100), password: z.string().min(1).max(1024) }),
    status: 201,
    response: sessionCreated,
  }),
  getCurrentSession: route({
    method: 'GET',
    path: '/api/v1/sessions/current',
    access: 'signed-in',
    tag: 'access',
    summary: 'Who the bearer is',
    status: 200,
    response: currentSession,
  }),
  logout: route({
    method: 'DELETE',
    path: '/api/v1/sessions/current',
    access: 'signed-in',
    tag: 'access',
    summary: 'Log out (console sessions only)',
    status: 204,
  }),
  listUsers: route({
    method: 'GET',
    path: '/api/v1/users',
    access: 'admin',
    tag: 'access',
    summary: 'Console users',
    status: 200,
    response: z.object({ users: z.array(user) }),
  }),
  createUser: route({
    method: 'POST',
    path: '/api/v1/users',
    access: 'admin',
    tag: 'access',
    summary: 'Create a console user',
    body: z.strictObject({ username: usernameSchema, password: z.string(), role: userRole }),
    status: 201,
    response: z.object({ id: z.number().int(), username: z.string(), role: userRole }),
  }),
  updateUser: route({
    method: 'PATCH',
    path: '/api/v1/users/{name}',
    access: 'admin',
    tag: 'access',
    summary: 'Change a user’s role or password, or disable them; their sessions end',
    params: userName,
    body: z
      .strictObject({
        role: userRole.optional(),
        password: z.string().optional(),
        disabled: z.boolean().optional(),
      })
      .refine((b) => b.role !== undefined || b.password !== undefined || b.disabled !== undefined, {
        error: 'name at least one of role, password, disabled',
      }),
    status: 200,
    response: z.object({
      id: z.number().int(),
      username: z.string(),
      role: userRole,
      disabled: z.boolean(),
      sessions_ended: z.number().int(),
    }),
  }),
  endUserSessions: route({
    method: 'DELETE',
    path: '/api/v1/users/{name}/sessions',
    access: 'admin',
    tag: 'access',
    summary: 'Log a user out everywhere',
    params: userName,
    status: 200,
    response: z.object({ username: z.string(), sessions_ended: z.number().int() }),
  }),
};
