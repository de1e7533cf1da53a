import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { VigilError } from '../errors.ts';
import { formatPath } from '../config/load-config.ts';
import { readBody } from '../ingress/read-body.ts';

const LIMIT = 1 << 20;
/** A control-API body is small; one still arriving after this is a slow-loris, not a slow link. */
export const API_BODY_TIMEOUT_MS = 10_000;

/** Reads a JSON (or, where allowed, YAML) body and validates it; field errors name their path. */
export async function readJson<T extends z.ZodType>(
  req: IncomingMessage,
  schema: T,
  opts: { yaml?: boolean } = {},
): Promise<z.infer<T>> {
  const text = (
    await readBody(req, LIMIT, {
      deadline: { at: Date.now() + API_BODY_TIMEOUT_MS, code: 'VIGIL_ERR_BODY_TIMEOUT' },
    })
  ).toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  let doc: unknown;
  try {
    doc = opts.yaml && /yaml/.test(type) ? parseYaml(text) : text === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new VigilError('VIGIL_ERR_MALFORMED_JSON', (err as Error).message.split('\n')[0]);
  }
  const result = schema.safeParse(doc);
  if (!result.success)
    throw new VigilError(
      'VIGIL_ERR_INVALID_BODY',
      result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '),
    );
  return result.data;
}
