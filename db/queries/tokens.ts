// API tokens for /api/v1. The plaintext is shown once, at creation; only its hash is stored.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { apiTokens, type ApiToken, type ApiTokenRole } from '../schema/index.ts';

/** Every vigil token starts with this, so a leaked one is easy to recognize (and to scan for). */
export const TOKEN_PREFIX = 'vgl_';

/**
 * sha256, hex. Not bcrypt/scrypt/argon2 on purpose: those slow hashes exist to make guessing
 * low-entropy passwords expensive, but a token is 256 random bits, which no amount of fast
 * hashing can brute-force. A fast hash also lets every request find its token through the
 * unique index on token_hash in one lookup; a salted slow hash would need a scan and a slow
 * verification per request.
 */
export function hashToken(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

/** Creates a token and returns its plaintext (the only time it is available) with its row. */
export async function createApiToken(
  db: Db,
  params: { name: string; role: ApiTokenRole },
): Promise<{ token: string; row: ApiToken }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiTokens)
    .values({ name: params.name, role: params.role, tokenHash: hashToken(token) })
    .returning();
  return { token, row: row! };
}

/** The token's row when it exists and is not revoked (recording its use), else undefined. */
export async function findToken(db: Db, plaintext: string): Promise<ApiToken | undefined> {
  if (!plaintext.startsWith(TOKEN_PREFIX)) return undefined;
  const [row] = await db
    .update(apiTokens)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiTokens.tokenHash, hashToken(plaintext)), isNull(apiTokens.revokedAt)))
    .returning();
  return row;
}

/** Revokes a token; true when it was active. */
export async function revokeApiToken(db: Db, id: number, at: Date = new Date()): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** All tokens, active and revoked, without their hashes. */
export function listApiTokens(db: Db): Promise<Omit<ApiToken, 'tokenHash'>[]> {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(apiTokens.id);
}

/** Whether any token is live (not revoked): the switch between loopback trust and tokens only. */
export async function anyActiveToken(db: Db): Promise<boolean> {
  const [row] = await db.select({ id: apiTokens.id }).from(apiTokens).where(isNull(apiTokens.revokedAt)).limit(1);
  return row !== undefined;
}
