import { z } from 'zod';
import { apiRoles } from './route.ts';

/**
 * The pieces every part of the control API's contract shares. Times are ISO 8601 strings in UTC;
 * durations are in seconds unless the name says `_ms`; a number the server cannot know (no
 * traffic yet, no data) is `null`, never 0, so a reader can say "no data".
 */

/** The control API's schemas that the OpenAPI document names (components.schemas). */
export const controlSchemas = z.registry<{ id: string; description?: string }>();

export const timestamp = z.iso.datetime().describe('ISO 8601, UTC');

export const role = z.enum(apiRoles);
export const userRole = z.enum(['viewer', 'operator', 'admin']);

/** Every error answer: a sentence safe to show, and a stable code from serving/errors.ts. */
export const errorBody = z
  .object({ error: z.string(), code: z.string().regex(/^VIGIL_ERR_[A-Z_]+$/) })
  .register(controlSchemas, { id: 'Error', description: 'Every error: a message and a stable code.' });

/** A numeric id in a path, e.g. `/api/v1/tokens/{id}`. */
export const numericId = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

/** A name in a path (deployment, version, user): what the router and the database accept. */
export const pathName = z.string().min(1).max(200);

/** `?limit=`: how many rows, newest first. */
export const limit = z.coerce.number().int().min(1).max(1000).default(100);

const UNIT_NAMES: Record<string, string> = { s: '30s', m: '5m', h: '1h', d: '28d', w: '2w' };

/**
 * Durations as vigil.yaml and the API write them (`30s`, `5m`, `1h`, `28d`), in the units a field
 * allows: the one definition of the syntax (slo/duration.ts parses it).
 */
export const duration = (units: string) => {
  const examples = units.split('|').map((u) => UNIT_NAMES[u] ?? u);
  const error = `expected a duration like ${examples.slice(0, -1).join(', ')} or ${examples.at(-1)}`;
  return z.string({ error }).regex(new RegExp(`^\\d+(${units})$`), { error });
};

/** One version's share of a traffic split (relative; the split need not sum to 100). */
export const weight = z.number().int().min(0).max(1_000_000);
/** A split: versions in order, each with its weight. */
export const weights = z.record(z.string(), weight);
