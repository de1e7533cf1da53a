import { z } from 'zod';

/**
 * The only place that reads process.env. Validated once; everything else receives values.
 * Flags given to `vigil start` win over these.
 */
const envSchema = z.object({
  VIGIL_CONFIG: z.string().min(1).default('vigil.yaml'),
  VIGIL_HOST: z.string().min(1).default('127.0.0.1'),
  VIGIL_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  VIGIL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` for development; JSON lines otherwise. */
  VIGIL_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  VIGIL_REPLICA_SPEC: z.string().optional(),
});

export type VigilEnv = z.infer<typeof envSchema>;

let cached: Readonly<VigilEnv> | undefined;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Readonly<VigilEnv> {
  if (source === process.env && cached) return cached;
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}, got ${JSON.stringify(source[String(i.path[0])])}`);
    throw new Error(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const env = Object.freeze(result.data);
  if (source === process.env) cached = env;
  return env;
}
