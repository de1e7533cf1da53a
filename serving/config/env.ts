import { z } from 'zod';

/**
 * The only place that reads process.env. Validated once; everything else receives values.
 * Flags given to `vigil start` win over these.
 */
const envSchema = z.object({
  VIGIL_CONFIG: z.string().min(1).default('vigil.yaml'),
  VIGIL_HOST: z.string().min(1).default('127.0.0.1'),
  /** Unset: 8000 for `vigil start`; the other commands first look for the node `start` recorded. */
  VIGIL_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The web console's port; wins over `console.port` in vigil.yaml, loses to `--console-port`. */
  VIGIL_CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  VIGIL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` for development; JSON lines otherwise. */
  VIGIL_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  VIGIL_REPLICA_SPEC: z.string().optional(),
  VIGIL_INGRESS_SPEC: z.string().optional(),
  /** `0`: run everything through tsx, never the bundles npm install built (scripts/build-bundles.mjs). */
  VIGIL_BUNDLE: z.enum(['0', '1']).optional(),
  /** Profiling: every ingress process and replica writes a V8 CPU profile (--cpu-prof) here when it exits. */
  VIGIL_CPU_PROF_DIR: z.string().min(1).optional(),
  /** Postgres (postgres.js) when set; the embedded PGlite under VIGIL_DATA_DIR otherwise. */
  DATABASE_URL: z.string().min(1).optional(),
  /** Unset: beside the config file (data-dir.ts), so that each config keeps its own state. */
  VIGIL_DATA_DIR: z.string().min(1).optional(),
  /** This node's name among several on one Postgres; default: the host name (the pod name on Kubernetes). */
  VIGIL_NODE_NAME: z.string().min(1).max(100).optional(),
  /** How other nodes and the console reach this node, e.g. http://10.0.3.7:8000; default: the listen address. */
  VIGIL_ADVERTISE_URL: z.url().optional(),
  /** Where the machine's /sys and /proc are read (heat, pressure, cgroup): tests and game days point it at a folder. */
  VIGIL_HOST_ROOT: z.string().min(1).default('/'),
  /** Bearer token the CLI sends to a running node's API. */
  VIGIL_TOKEN: z.string().min(1).optional(),
  /** `0` or `off` keeps `vigil start` from starting the web console this once (tests, headless nodes). */
  VIGIL_CONSOLE: z.enum(['0', '1', 'off', 'on']).optional(),
  /** `off` stops recording request metrics; it exists so the benchmark can measure their cost. */
  VIGIL_METRICS: z.enum(['on', 'off']).default('on'),
  // OpenTelemetry's standard variables. With no endpoint, tracing is off and costs nothing.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('vigil'),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_traceidratio'),
  /** The ratio for the *traceidratio samplers; vigil's default keeps one trace in ten. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(0.1),
});

export type VigilEnv = z.infer<typeof envSchema>;

/**
 * A secret that vigil.yaml names by environment variable (webhook HMAC keys). Secrets stay out of
 * the config file; a named variable that is unset is a start-up error.
 */
export function secretFromEnv(name: string, source: NodeJS.ProcessEnv = process.env): string {
  const value = source[name];
  if (!value) throw new Error(`environment variable ${name} (named by vigil.yaml) is not set`);
  return value;
}

let cached: Readonly<VigilEnv> | undefined;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Readonly<VigilEnv> {
  if (source === process.env && cached) return cached;
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `${i.path.join('.')}: ${i.message}, got ${JSON.stringify(source[String(i.path[0])])}`,
    );
    throw new Error(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const env = Object.freeze(result.data);
  if (source === process.env) cached = env;
  return env;
}

/**
 * Removes secrets from this process's environment once they have been read, so that no child
 * process inherits them: replicas run users' handler code, and the console is a web server.
 * `readEnv()` keeps the values it validated, so vigil itself still has them.
 */
export function withholdFromChildren(names: readonly string[]): void {
  readEnv();
  for (const name of names) delete process.env[name];
}
