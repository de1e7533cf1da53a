import { duration } from '../../contract/control/common.ts';
import { usableCores } from '../host/hardware.ts';
import { HostFiles } from '../host/host-files.ts';
import { probeExpectation as probeExpectationSchema } from '../../contract/control/probes.ts';
import { z } from 'zod';
import { DURATION_BUCKETS } from '../telemetry/buckets.ts';

/**
 * The schema of vigil.yaml. Every default lives here, next to the reason for it, so that
 * docs/configuration.md and the runtime can never disagree about what a missing key means.
 * Objects are strict: a misspelt key is an error at start, not a silently ignored setting.
 */

const positiveInt = (what = 'a positive integer') =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });
const nonNegativeInt = () =>
  z
    .number({ error: 'expected a non-negative integer' })
    .int({ error: 'expected a non-negative integer' })
    .min(0, { error: 'expected a non-negative integer' });
const positiveNumber = () =>
  z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' });
const nonNegativeNumber = () =>
  z.number({ error: 'expected a non-negative number' }).min(0, { error: 'expected a non-negative number' });

/** Deployment and version names appear in URLs and metric labels, so they are kept tame. */
const name = z.string({ error: 'expected a string' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
  error: 'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
});

export const executionProviders = ['auto', 'cpu', 'cuda', 'coreml', 'webgpu'] as const;
export type ExecutionProviderChoice = (typeof executionProviders)[number];

export const batchingSchema = z.strictObject({
  /** Rows (axis-0 items) per session.run; 1 turns batching off. */
  max_batch_size: positiveInt().default(8),
  /**
   * How long the first item of a batch waits for company. 0 (the default) takes what is already
   * there: while a run blocks the replica, new requests pile up and form the next batch anyway,
   * and an idle replica then answers without an added wait. Raise it for models whose per-item
   * cost falls with batch size (GPUs); on CPU the cls model gains nothing from waiting.
   */
  batch_wait_timeout_ms: nonNegativeNumber().default(0),
});

export const warmupSchema = z.strictObject({
  /** Requests run with zero-filled inputs before the replica is RUNNING. */
  requests: nonNegativeInt().default(1),
  /**
   * Shapes for the warm-up inputs, by input name. Without them, dynamic dimensions become 1 and
   * a failure only warns, because a guessed shape may simply not suit the model.
   */
  shapes: z.record(z.string(), z.array(positiveInt())).optional(),
});

const durationText = duration('s|m|h|d|w');

/** A service level objective of one deployment (see slo/definition.ts for what counts as bad). */
export const sloSchema = z
  .strictObject({
    /** Defaults to `<deployment>-<kind>`. */
    name: name.optional(),
    kind: z.enum(['availability', 'latency', 'correctness'], {
      error: 'expected availability, latency or correctness',
    }),
    objective: z
      .number({ error: 'expected a ratio between 0 and 1, e.g. 0.999' })
      .gt(0, { error: 'expected a ratio between 0 and 1, e.g. 0.999' })
      .lt(1, { error: 'expected a ratio between 0 and 1, e.g. 0.999' }),
    window: durationText.default('28d'),
    /** Latency SLOs: good = answered within this many milliseconds. Must be a histogram bucket bound. */
    threshold_ms: positiveNumber().optional(),
    /** Restrict the SLO to one version; by default every version counts. */
    version: name.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.kind === 'latency' && s.threshold_ms === undefined)
      ctx.addIssue({ code: 'custom', path: ['threshold_ms'], message: 'a latency SLO needs threshold_ms' });
    if (s.kind === 'latency' && s.threshold_ms !== undefined && !DURATION_BUCKETS.includes(s.threshold_ms / 1000)) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold_ms'],
        message: `must be one of the latency histogram bounds (${DURATION_BUCKETS.map((b) => b * 1000).join(', ')} ms), got ${s.threshold_ms}`,
      });
    }
    if (s.kind === 'availability' && s.threshold_ms !== undefined)
      ctx.addIssue({ code: 'custom', path: ['threshold_ms'], message: 'only latency SLOs take threshold_ms' });
  });

/**
 * A synthetic request with a known answer, sent through the public port like a client's, pinned to
 * each live version of its deployment (or to `versions`). Its results are the `correctness` SLI;
 * they never count in the request SLIs. A rollout checks the canary's probes before its first step.
 */
export const probeSchema = z
  .strictObject({
    name,
    /** An inference request (OIP JSON, `{inputs: [...]}`), inline or in a file beside vigil.yaml. */
    request: z.record(z.string(), z.unknown()).optional(),
    request_file: z.string().min(1).optional(),
    /** A custom route's raw body, from a file, with its content type and path below the prefix. */
    body_file: z.string().min(1).optional(),
    content_type: z.string().min(1).default('application/octet-stream'),
    path: z.string().default(''),
    expect: probeExpectationSchema,
    interval: durationText.default('30s'),
    timeout_ms: positiveInt().default(5000),
    /** Only these versions; by default every version that serves or is being rolled out. */
    versions: z.array(name).optional(),
  })
  .superRefine((p, ctx) => {
    const given = [p.request, p.request_file, p.body_file].filter((x) => x !== undefined).length;
    if (given !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of request, request_file or body_file' });
  });

/**
 * Deliberate failures for tests and game days, as Istio's fault injection: each request first
 * waits `added_latency_ms`, then fails with 500 (VIGIL_ERR_FAULT_INJECTED) with probability
 * `error_rate`. Off by default; every response it touches carries `x-vigil-fault`.
 */
export const faultInjectionSchema = z.strictObject({
  error_rate: z
    .number({ error: 'expected a ratio between 0 and 1' })
    .min(0, { error: 'expected a ratio between 0 and 1' })
    .max(1, { error: 'expected a ratio between 0 and 1' })
    .default(0),
  added_latency_ms: nonNegativeNumber().default(0),
});

/** One model version of a deployment. Several can be live at once, each with its own replicas. */
export const versionSchema = z.strictObject({
  version: name,
  /** Path to the .onnx file, relative to the config file. A handler may do without one. */
  model: z
    .string({ error: 'expected a path to an .onnx file' })
    .min(1, { error: 'expected a path to an .onnx file' })
    .optional(),
  /** Path to a TypeScript (or JavaScript) module whose default export is defineDeployment({...}). */
  handler: z
    .string({ error: 'expected a path to a handler module' })
    .min(1, { error: 'expected a path to a handler module' })
    .optional(),
  /**
   * Share of unpinned traffic, relative to the other versions' weights (percent by convention).
   * Defaults to 100 for the first version and 0 for the others: a new version is deployed dark
   * and receives traffic through a rollout, a weight change or a pinned request.
   */
  weight: nonNegativeInt().optional(),
  /** Overrides the deployment's num_replicas for this version (ignored under autoscaling). */
  num_replicas: positiveInt().optional(),
  fault_injection: faultInjectionSchema.optional(),
});

/**
 * Ray Serve's autoscaling: replicas = ceil(average ongoing requests over look_back_period_s /
 * target_ongoing_requests), within [min_replicas, max_replicas], applied only after the wanted
 * direction has held for upscale_delay_s or downscale_delay_s. Defaults are Ray Serve's.
 */
export const autoscalingSchema = z
  .strictObject({
    min_replicas: nonNegativeInt().default(1),
    max_replicas: positiveInt().default(1),
    /** Replicas at start; defaults to min_replicas (Ray does the same). */
    initial_replicas: nonNegativeInt().optional(),
    target_ongoing_requests: positiveNumber().default(2),
    upscale_delay_s: nonNegativeNumber().default(30),
    downscale_delay_s: nonNegativeNumber().default(600),
    look_back_period_s: positiveNumber().default(30),
  })
  .superRefine((a, ctx) => {
    if (a.max_replicas < a.min_replicas)
      ctx.addIssue({
        code: 'custom',
        path: ['max_replicas'],
        message: `must be at least min_replicas (${a.min_replicas}), got ${a.max_replicas}`,
      });
    if (
      a.initial_replicas !== undefined &&
      (a.initial_replicas < a.min_replicas || a.initial_replicas > a.max_replicas)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['initial_replicas'],
        message: `must lie between min_replicas and max_replicas (${a.min_replicas}..${a.max_replicas}), got ${a.initial_replicas}`,
      });
    }
  });

/** Shadow traffic: a copy of `percent` of the requests served by other versions also runs on `version`; its answer is compared, never returned. */
export const mirrorSchema = z.strictObject({
  version: name,
  percent: z
    .number({ error: 'expected a percentage from 0 to 100' })
    .min(0, { error: 'expected a percentage from 0 to 100' })
    .max(100, { error: 'expected a percentage from 0 to 100' }),
  /** For outputs that are not class scores: answers agree when no element differs by more than this. */
  tolerance: nonNegativeNumber().default(1e-4),
});

const stepsSchema = z
  .array(
    z
      .number({ error: 'expected a canary weight from 1 to 100' })
      .int({ error: 'expected a canary weight from 1 to 100' })
      .min(1, { error: 'expected a canary weight from 1 to 100' })
      .max(100, { error: 'expected a canary weight from 1 to 100' }),
    { error: 'expected a list of canary weights, e.g. [5, 25, 50, 100]' },
  )
  .min(1, { error: 'expected at least one step' })
  .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!), { error: 'steps must increase' });

/** A rollout declared in vigil.yaml starts when vigil starts, once per canary version. */
export const configRolloutSchema = z.strictObject({
  canary: name,
  steps: stepsSchema.default([5, 25, 50, 100]),
  interval: durationText.default('30s'),
});

/** A custom HTTP route served by a handler deployment (like Ray Serve's FastAPI ingress). */
export const routeSchema = z.strictObject({
  /** e.g. /ocr: the handler receives requests to this path and below it. */
  prefix: z
    .string({ error: 'expected a path like /ocr' })
    .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, { error: 'expected a path like /ocr' }),
  methods: z
    .array(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], { error: 'expected GET, POST, PUT, PATCH or DELETE' }))
    .min(1)
    .default(['POST']),
});

/**
 * Many models of one shape behind one deployment (Ray Serve's @serve.multiplexed): each request
 * names its model with x-vigil-model-id; each replica keeps the most recently used ones loaded.
 */
export const multiplexSchema = z.strictObject({
  /** Directory of .onnx files; a file's name without .onnx is its model id. Relative to the config file. */
  models_dir: z
    .string({ error: 'expected a directory of .onnx files' })
    .min(1, { error: 'expected a directory of .onnx files' }),
  max_models_per_replica: positiveInt().default(3),
});

const deploymentFields = {
  name,
  /** Shorthand for a single version: `model` and/or `handler` (and `version`) instead of a `versions` list. */
  model: z
    .string({ error: 'expected a path to an .onnx file' })
    .min(1, { error: 'expected a path to an .onnx file' })
    .optional(),
  handler: z
    .string({ error: 'expected a path to a handler module' })
    .min(1, { error: 'expected a path to a handler module' })
    .optional(),
  route: routeSchema.optional(),
  multiplex: multiplexSchema.optional(),
  /** Deployments this one's handler may call (ctx.handle(name)); checked for unknown names and cycles at start. */
  calls: z.array(name).default([]),
  version: name.optional(),
  versions: z
    .array(versionSchema, { error: 'expected a list of versions' })
    .min(1, { error: 'expected at least one version' })
    .optional(),
  /**
   * Fixed replicas per version (leave it out under autoscaling); `auto`: one per usable core (the
   * cgroup's quota within a container), at least 1.
   */
  num_replicas: z
    .union([z.literal('auto'), positiveInt()], { error: 'expected auto or a positive integer' })
    .optional(),
  autoscaling: autoscalingSchema.optional(),
  mirror: mirrorSchema.optional(),
  rollout: configRolloutSchema.optional(),
  /** Per replica: how many requests it holds at once (queued in its batcher or running). */
  max_ongoing_requests: positiveInt().default(16),
  /** Per deployment version: requests waiting for a replica slot before load is shed with 503. */
  max_queued_requests: nonNegativeInt().default(256),
  batching: batchingSchema.default({ max_batch_size: 8, batch_wait_timeout_ms: 0 }),
  execution_provider: z
    .enum(executionProviders, { error: `expected one of ${executionProviders.join(', ')}` })
    .default('auto'),
  /**
   * ONNX Runtime intra-op threads per replica. 1 suits several replicas on few cores; `auto`
   * shares the cores vigil may use (the cgroup's quota: serving/host/hardware.ts) among the
   * deployment's replicas (its autoscaling maximum, or its largest version's count).
   */
  intra_op_threads: z
    .union([z.literal('auto'), positiveInt()], { error: 'expected auto or a positive integer' })
    .default(1),
  health_check_period_s: positiveNumber().default(10),
  health_check_timeout_s: positiveNumber().default(30),
  graceful_shutdown_timeout_s: nonNegativeNumber().default(20),
  /** Deadline applied when the client sends none, so that no request can wait forever. */
  request_timeout_s: positiveNumber().default(30),
  max_request_body_bytes: positiveInt().default(16 * 1024 * 1024),
  warmup: warmupSchema.default({ requests: 1 }),
  /** How long a STARTING replica may take to load and warm up before it is replaced. */
  startup_timeout_s: positiveNumber().default(120),
  slos: z.array(sloSchema).default([]),
  probes: z.array(probeSchema).default([]),
  /** Applies to every version that does not set its own. */
  fault_injection: faultInjectionSchema.default({ error_rate: 0, added_latency_ms: 0 }),
};

/**
 * A deployment. The output always has a `versions` list with weights filled in and `num_replicas`
 * resolved, so the runtime never has to know which spelling the file used.
 */
export const deploymentSchema = z
  .strictObject(deploymentFields)
  .superRefine((d, ctx) => {
    if (d.versions && (d.model !== undefined || d.version !== undefined || d.handler !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['versions'],
        message: 'give either model (and version) or a versions list, not both',
      });
    }
    if (
      d.multiplex &&
      (d.model !== undefined ||
        d.handler !== undefined ||
        d.versions?.some((v) => v.model !== undefined || v.handler !== undefined))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['multiplex'],
        message: 'a multiplexed deployment takes its models from models_dir; leave model and handler out',
      });
    }
    if (!d.multiplex && !d.versions && d.model === undefined && d.handler === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: 'expected a path to an .onnx file (or a handler, or a versions list)',
      });
    if (!d.multiplex)
      d.versions?.forEach((v, i) => {
        if (v.model === undefined && v.handler === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['versions', i, 'model'],
            message: 'expected a path to an .onnx file (or a handler)',
          });
      });
    if (d.route && !(d.handler ?? d.versions?.every((v) => v.handler !== undefined)))
      ctx.addIssue({ code: 'custom', path: ['route'], message: 'a custom route needs a handler on every version' });
    if (d.autoscaling && d.num_replicas !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['num_replicas'],
        message: 'leave num_replicas out when autoscaling sets the replica count',
      });
    const versions = d.versions?.map((v) => v.version) ?? [d.version ?? 'v1'];
    const seen = new Set<string>();
    d.versions?.forEach((v, i) => {
      if (seen.has(v.version))
        ctx.addIssue({ code: 'custom', path: ['versions', i, 'version'], message: `duplicate version "${v.version}"` });
      seen.add(v.version);
    });
    if (d.versions?.every((v, i) => (v.weight ?? (i === 0 ? 100 : 0)) === 0)) {
      ctx.addIssue({ code: 'custom', path: ['versions'], message: 'at least one version needs a weight above 0' });
    }
    if (d.mirror && !versions.includes(d.mirror.version))
      ctx.addIssue({
        code: 'custom',
        path: ['mirror', 'version'],
        message: `unknown version "${d.mirror.version}"; this deployment has ${versions.join(', ')}`,
      });
    if (d.rollout && !versions.includes(d.rollout.canary))
      ctx.addIssue({
        code: 'custom',
        path: ['rollout', 'canary'],
        message: `unknown version "${d.rollout.canary}"; this deployment has ${versions.join(', ')}`,
      });
    const probeNames = new Set<string>();
    d.probes.forEach((p, j) => {
      if (probeNames.has(p.name))
        ctx.addIssue({ code: 'custom', path: ['probes', j, 'name'], message: `duplicate probe "${p.name}"` });
      probeNames.add(p.name);
      for (const [k, v] of (p.versions ?? []).entries())
        if (!versions.includes(v))
          ctx.addIssue({
            code: 'custom',
            path: ['probes', j, 'versions', k],
            message: `unknown version "${v}"; this deployment has ${versions.join(', ')}`,
          });
      if (p.body_file !== undefined && !d.route)
        ctx.addIssue({
          code: 'custom',
          path: ['probes', j, 'body_file'],
          message: 'a raw body needs the deployment to have a route; send an inference request instead',
        });
      if ('json' in p.expect && p.body_file === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['probes', j, 'expect'],
          message: 'a json expectation checks a custom route’s answer; use top1 or allclose for inference',
        });
    });
    d.slos.forEach((s, j) => {
      if (s.version !== undefined && !versions.includes(s.version))
        ctx.addIssue({
          code: 'custom',
          path: ['slos', j, 'version'],
          message: `unknown version "${s.version}"; this deployment has ${versions.join(', ')}`,
        });
    });
  })
  .transform(({ model, handler, version, versions, num_replicas: given, intra_op_threads, ...rest }) => {
    const list = versions ?? [{ version: version ?? 'v1', model, handler }];
    const num_replicas = given === 'auto' ? autoReplicas(usableCores(new HostFiles('/'))) : given;
    const replicas =
      rest.autoscaling?.max_replicas ?? Math.max(...list.map((v) => v.num_replicas ?? num_replicas ?? 1));
    return {
      ...rest,
      intra_op_threads:
        intra_op_threads === 'auto' ? autoIntraOpThreads(usableCores(new HostFiles('/')), replicas) : intra_op_threads,
      num_replicas: num_replicas ?? 1,
      versions: list.map((v, i) => ({
        version: v.version,
        model: v.model,
        handler: v.handler,
        weight: v.weight ?? (i === 0 ? 100 : 0),
        num_replicas: v.num_replicas ?? num_replicas ?? 1,
        fault_injection: v.fault_injection ?? rest.fault_injection,
      })),
    };
  });

export const loggingSchema = z.strictObject({
  /** Share of requests logged as one JSON line each; unexpected errors are always logged. */
  request_sample_rate: z
    .number({ error: 'expected a number from 0 to 1' })
    .min(0, { error: 'expected a number from 0 to 1' })
    .max(1, { error: 'expected a number from 0 to 1' })
    .default(0.01),
});

export const webhookSchema = z.strictObject({
  name,
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  /** Name of the environment variable that holds the HMAC secret; deliveries are signed when set. */
  secret_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected an environment variable name' })
    .optional(),
});

export const alertingSchema = z.strictObject({
  /** How vigil is reached from outside; used in webhook links. Defaults to the listen address. */
  external_url: z.url({ error: 'expected an http(s) URL' }).optional(),
  webhooks: z.array(webhookSchema).default([]),
});

const windowPairSchema = z.strictObject({ long: durationText, short: durationText, factor: positiveNumber() });

/** The SRE Workbook's multiwindow, multi-burn-rate table (for a 30-day budget). */
const defaultBurnWindows = {
  page: [
    { long: '1h', short: '5m', factor: 14.4 },
    { long: '6h', short: '30m', factor: 6 },
  ],
  ticket: [
    { long: '1d', short: '2h', factor: 3 },
    { long: '3d', short: '6h', factor: 1 },
  ],
};

export const sloEngineSchema = z.strictObject({
  /** Page and ticket conditions: AND within a pair, OR across pairs. Windows up to 3d are kept in memory. */
  burn_windows: z
    .strictObject({ page: z.array(windowPairSchema).min(1), ticket: z.array(windowPairSchema).min(1) })
    .default(defaultBurnWindows),
  evaluation_interval_s: positiveNumber().default(5),
  /** How often SLI buckets are written to the database: the most a crash can lose. */
  flush_interval_s: positiveNumber().default(10),
  /** Prometheus-style `for` before page and ticket alerts fire. */
  page_for_s: nonNegativeNumber().default(0),
  ticket_for_s: nonNegativeNumber().default(0),
});

/**
 * How canaries are judged. The defaults and the reasoning behind each are in docs/rollouts.md;
 * a rollout started through the API may override any of them except analysis_interval_s.
 */
export const rolloutAnalysisSchema = z.strictObject({
  /** How often every active rollout is analysed. A failing canary is rolled back at the next tick. */
  analysis_interval_s: positiveNumber().default(0.5),
  /**
   * Canary requests (over the interval judged) needed before its error rate is judged at all: an
   * error burst on a canary with fewer is not evidence.
   */
  min_requests: positiveInt().default(20),
  /**
   * Two-sided confidence of the Wilson intervals that separate a bad canary from bad luck. One
   * analysis decides (there is no second one to wait for), so it is set high: 99%.
   */
  confidence: z
    .number({ error: 'expected a ratio between 0.5 and 1' })
    .min(0.5, { error: 'expected a ratio between 0.5 and 1' })
    .lt(1, { error: 'expected a ratio between 0.5 and 1' })
    .default(0.99),
  /** The canary's error ratio must exceed this burn rate with confidence (the SRE Workbook's fast-burn page). */
  burn_rate_factor: positiveNumber().default(14.4),
  /**
   * The newest part of the interval judged (at most half of it): a latency failure must show both
   * there and in the older part, so a stall of a second or two cannot roll a canary back alone.
   */
  short_window_s: positiveNumber().default(10),
  /** Availability objective used when the deployment declares no availability SLO. */
  objective: z
    .number({ error: 'expected a ratio between 0 and 1, e.g. 0.999' })
    .gt(0, { error: 'expected a ratio between 0 and 1, e.g. 0.999' })
    .lt(1, { error: 'expected a ratio between 0 and 1, e.g. 0.999' })
    .default(0.999),
  /** The canary fails on latency only when its p95 exceeds the stable's by both this ratio and min_latency_delta_ms... */
  max_latency_ratio: positiveNumber().default(1.2),
  min_latency_delta_ms: nonNegativeNumber().default(20),
  /** ...and this much larger a share of its requests is slower than the stable's p95 bound. */
  min_excess_share: z.number().gt(0).max(1).default(0.1),
  /** Canary requests needed over the interval before latency is judged. */
  latency_min_requests: positiveInt().default(20),
  /** Output-agreement gate: the least share of mirrored requests whose answers agree; off when absent. */
  min_agreement: z
    .number({ error: 'expected a ratio between 0 and 1' })
    .min(0, { error: 'expected a ratio between 0 and 1' })
    .max(1, { error: 'expected a ratio between 0 and 1' })
    .nullable()
    .default(null),
  min_mirror_samples: positiveInt().default(50),
  /** With the agreement gate on, this share of the stable version's traffic is mirrored to the canary. */
  mirror_percent: z.number().min(0).max(100).default(20),
  /**
   * Off (null) by default: when set, a fifth check compares the canary's answers and inputs with
   * the stable version's over the drift window (serving/drift/) and fails it at this PSI.
   */
  max_drift: positiveNumber().nullable().default(null),
});

/**
 * Prediction drift (serving/drift/): each version's answers and inputs over the last `window`
 * against the stable version's over the same window, or against its own window before. PSI at or
 * above `threshold` on any signal for `for` raises the ticket VigilPredictionDrift.
 */
export const driftSchema = z.strictObject({
  enabled: z.boolean().default(true),
  window: durationText.default('1h'),
  /** 0.25 is the usual "significant shift" reading of the Population Stability Index. */
  threshold: positiveNumber().default(0.25),
  for: durationText.default('10m'),
  /** Values each side needs before a comparison is made. */
  min_samples: positiveInt().default(200),
  evaluation_interval_s: positiveNumber().default(30),
});

export type DriftConfig = z.output<typeof driftSchema>;

/**
 * Heat and pressure (serving/host/): the machine's temperature, throttling and PSI, read every
 * `interval_s` under VIGIL_HOST_ROOT. A condition that lasts `sustain` caps the replica count:
 * autoscaling holds its scale-ups until every condition has been clear for `recover`. The
 * defaults are argued in docs/configuration.md (Heat keys).
 */
export const heatSchema = z.strictObject({
  enabled: z.boolean().default(true),
  interval_s: positiveNumber().default(5),
  max_celsius: positiveNumber().default(85),
  min_frequency_ratio: z.number().gt(0).lt(1).nullable().default(null),
  cpu_pressure_pct: z.number().gt(0).max(100).default(60),
  memory_pressure_pct: z.number().gt(0).max(100).default(20),
  sustain: durationText.default('30s'),
  recover: durationText.default('2m'),
});
export type HeatConfig = z.output<typeof heatSchema>;

export const autoscalerSchema = z.strictObject({
  /** How often autoscaling decisions are taken (and ongoing requests sampled). */
  interval_s: positiveNumber().default(1),
  /** Replicas on this node may together use at most this much RSS; default: memory_budget_fraction of the machine. */
  memory_budget_bytes: positiveInt().optional(),
  memory_budget_fraction: z
    .number({ error: 'expected a ratio between 0 and 1' })
    .gt(0, { error: 'expected a ratio between 0 and 1' })
    .max(1, { error: 'expected a ratio between 0 and 1' })
    .default(0.8),
});

export const consoleSchema = z.strictObject({
  /** `vigil start` also starts the web console (its own process); VIGIL_CONSOLE=0 turns it off for one run. */
  enabled: z.boolean().default(true),
  port: z.number().int().min(0).max(65535).default(3000),
  /** Where the console listens; default: the node's own host. */
  host: z.string().min(1).optional(),
  /** Charts read PromQL from this Prometheus instead of the node's in-memory series. */
  prometheus_url: z.url({ error: 'expected a URL like http://prometheus:9090' }).optional(),
  /** A trace UI link with {trace_id}, e.g. http://localhost:16686/trace/{trace_id} (Jaeger). */
  trace_url_template: z.string().includes('{trace_id}', { error: 'expected a URL containing {trace_id}' }).optional(),
  /** Price of one CPU-hour in USD, for the cost per 1,000 predictions; unset = not shown. */
  cpu_hour_usd: z.number().min(0).optional(),
  /**
   * Addresses of reverse proxies in front of the console whose X-Forwarded-For is believed. From
   * anyone else the header is ignored and the socket's address is the browser's: that is the
   * address logins are recorded and rate-limited under.
   */
  trusted_proxies: z.array(z.ipv4().or(z.ipv6())).default([]),
});

export type ConsoleConfig = z.infer<typeof consoleSchema>;

/**
 * `num_replicas: auto`: one replica per usable core, at least 1. With direct ingress (the
 * default) the replicas serve the port themselves and the one dedicated ingress process only
 * stands by (docs/decisions/0012-direct-ingress.md). With `ingress.direct: false` the ingress
 * processes take half the cores: set `num_replicas` by hand then (docs/configuration.md).
 */
export function autoReplicas(cores: number): number {
  return Math.max(1, cores);
}

/** `intra_op_threads: auto`: the usable cores shared among the replicas, at least 1 each. */
export function autoIntraOpThreads(cores: number, replicas: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, replicas)));
}

/**
 * Dedicated ingress processes per node, `auto`: with direct ingress, 1 (it stands by while
 * replicas serve the port: docs/decisions/0012-direct-ingress.md); without, half the cores the
 * process may use (within a container, its cgroup's CPU quota: serving/host/hardware.ts), at
 * least 1 and at most 8, since the replicas need the other half (docs/decisions/0007-data-plane.md).
 */
export function defaultIngressProcesses(cores = usableCores(new HostFiles('/')), direct = true): number {
  return direct ? 1 : Math.max(1, Math.min(8, Math.floor(cores / 2)));
}

export const ingressSchema = z
  .strictObject({
    /** How many dedicated processes share the HTTP port and route inference; each has its own event loop. */
    processes: z
      .union([z.literal('auto'), z.number().int().min(1).max(64)], {
        error: 'expected auto or a whole number from 1 to 64',
      })
      .default('auto'),
    /**
     * Direct ingress: every replica serves the port too, routing like an ingress process and
     * answering from its own model without a hop (docs/decisions/0012-direct-ingress.md). `false`
     * puts every request through a dedicated ingress process (decision 0007): for models whose
     * runs take hundreds of milliseconds, which would hold up the requests a replica reads.
     */
    direct: z.boolean().default(true),
    /**
     * Replicas and ingress processes start V8 with this floor (MiB) on the old generation's
     * limit (`--initial-old-space-size`): no full garbage collection while the old generation
     * plus the Buffer memory allocated since the last one stays under it. Request bodies are
     * Buffers outside the heap, and V8 counts them against that limit; at V8's own limit a replica
     * ran a full collection every 27 requests (docs/decisions/0013-data-plane-heap-floor.md).
     * The cost is memory: up to this much garbage before a full collection. 0 keeps V8's default.
     */
    heap_floor_mb: z.number().int().min(0).max(65536).default(128),
  })
  .transform(({ processes, direct, heap_floor_mb }) => ({
    processes: processes === 'auto' ? defaultIngressProcesses(undefined, direct) : processes,
    direct,
    heap_floor_mb,
  }));

/**
 * The control listener: the primary serves the control API and /metrics on a TCP port of its own,
 * so the console and scrapers never pass through a replica's event loop
 * (docs/decisions/0014-control-listener.md). The main port still answers the same paths, through
 * a replica. Loopback on an ephemeral port by default: the local console and CLI find it in the
 * node record; set a port and host to scrape it or reach it from another machine.
 */
export const controlListenerSchema = z.strictObject({
  /** 0: a free port chosen at start, named in the log line and the node record. */
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
});

/** Several nodes on one Postgres (docs/cluster.md). Ignored on the embedded database, which has one node. */
export const clusterSchema = z.strictObject({
  /** How often a node writes its heartbeat, its report and its per-second counts, and a follower tries the leader lock. */
  heartbeat_interval_s: positiveNumber().default(1),
  /** How long a silent leader keeps the lock: Postgres ends its session after this (idle_session_timeout), and another node takes over. */
  leader_lease_s: positiveNumber().default(5),
  /** A node not heard from for this long is shown as down and no longer counts for canary readiness. */
  node_timeout_s: positiveNumber().default(5),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;

/**
 * How long the database keeps each growing table; the leader deletes older rows
 * (serving/retention/retention-job.ts). docs/configuration.md argues for each default.
 */
export const retentionSchema = z.strictObject({
  /** SLI counts. Never less than the longest SLO window (plus a day), whatever this says. */
  sli_buckets: durationText.default('35d'),
  /** Per-minute request counts behind the console's 1h, 24h and 7d figures and charts. */
  request_rollups: durationText.default('35d'),
  /** Who changed what. A year, the span most audit and compliance reviews look back over. */
  audit_log: durationText.default('365d'),
  /** Webhooks already delivered (undelivered ones are never deleted). */
  delivered_webhooks: durationText.default('7d'),
  /** Rollouts that ended (promoted, rolled back, aborted); active ones are never deleted. */
  finished_rollouts: durationText.default('90d'),
  /** How often the leader prunes. */
  interval: durationText.default('10m'),
});

export type RetentionConfig = z.infer<typeof retentionSchema>;

export const configSchema = z
  .strictObject(
    {
      console: consoleSchema.default(consoleSchema.parse({})),
      ingress: ingressSchema.default(() => ingressSchema.parse({})),
      control: controlListenerSchema.default(() => controlListenerSchema.parse({})),
      logging: loggingSchema.default({ request_sample_rate: 0.01 }),
      alerting: alertingSchema.default({ webhooks: [] }),
      slo_engine: sloEngineSchema.default({
        burn_windows: defaultBurnWindows,
        evaluation_interval_s: 5,
        flush_interval_s: 10,
        page_for_s: 0,
        ticket_for_s: 0,
      }),
      rollouts: rolloutAnalysisSchema.default(rolloutAnalysisSchema.parse({})),
      autoscaler: autoscalerSchema.default(autoscalerSchema.parse({})),
      drift: driftSchema.default(driftSchema.parse({})),
      heat: heatSchema.default(heatSchema.parse({})),
      cluster: clusterSchema.default(clusterSchema.parse({})),
      retention: retentionSchema.default(retentionSchema.parse({})),
      deployments: z
        .array(deploymentSchema, { error: 'expected a list of deployments' })
        .min(1, { error: 'expected at least one deployment' }),
    },
    { error: 'expected a mapping with a "deployments" list' },
  )
  .superRefine((cfg, ctx) => {
    for (const sev of ['page', 'ticket'] as const) {
      cfg.slo_engine.burn_windows[sev].forEach((p, i) => {
        const seconds = (d: string) =>
          Number(d.slice(0, -1)) *
          ({ s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as Record<string, number>)[d.slice(-1)]!;
        if (seconds(p.short) >= seconds(p.long))
          ctx.addIssue({
            code: 'custom',
            path: ['slo_engine', 'burn_windows', sev, i, 'short'],
            message: `must be shorter than long (${p.long}), got ${p.short}`,
          });
        if (seconds(p.long) > 3 * 86400)
          ctx.addIssue({
            code: 'custom',
            path: ['slo_engine', 'burn_windows', sev, i, 'long'],
            message: `alerting windows are kept in memory for at most 3d, got ${p.long}`,
          });
      });
    }
    const seen = new Set<string>();
    const sloIds = new Set<string>();
    const prefixes = new Map<string, string>();
    const names = new Set(cfg.deployments.map((d) => d.name));
    cfg.deployments.forEach((d, i) => {
      d.calls.forEach((c, j) => {
        if (!names.has(c))
          ctx.addIssue({ code: 'custom', path: ['deployments', i, 'calls', j], message: `unknown deployment "${c}"` });
        else if (!d.versions.some((v) => v.handler))
          ctx.addIssue({
            code: 'custom',
            path: ['deployments', i, 'calls'],
            message: 'only a handler can call other deployments',
          });
      });
    });
    const cycle = findCycle(cfg.deployments.map((d) => [d.name, d.calls] as const));
    if (cycle)
      ctx.addIssue({ code: 'custom', path: ['deployments'], message: `calls form a cycle: ${cycle.join(' -> ')}` });
    cfg.deployments.forEach((d, i) => {
      if (!d.route) return;
      const p = d.route.prefix;
      if (/^\/(v2|api|metrics)(\/|$)/.test(p))
        ctx.addIssue({
          code: 'custom',
          path: ['deployments', i, 'route', 'prefix'],
          message: `${p} is vigil's own; choose another prefix`,
        });
      const other = prefixes.get(p);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['deployments', i, 'route', 'prefix'],
          message: `${p} is already the route of deployment "${other}"`,
        });
      prefixes.set(p, d.name);
    });
    cfg.deployments.forEach((d, i) => {
      if (seen.has(d.name))
        ctx.addIssue({
          code: 'custom',
          path: ['deployments', i, 'name'],
          message: `duplicate deployment name "${d.name}"`,
        });
      seen.add(d.name);
      d.slos.forEach((s, j) => {
        const id = s.name ?? `${d.name}-${s.kind}`;
        if (sloIds.has(id))
          ctx.addIssue({
            code: 'custom',
            path: ['deployments', i, 'slos', j, 'name'],
            message: `duplicate SLO name "${id}"; give each SLO a unique name`,
          });
        sloIds.add(id);
      });
    });
  });

/** The first cycle in a call graph, as a path that ends where it starts; undefined when acyclic. */
export function findCycle(graph: readonly (readonly [string, readonly string[]])[]): string[] | undefined {
  const edges = new Map(graph);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const [node] of graph) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

export type VigilConfig = z.infer<typeof configSchema>;
export type SloConfig = z.infer<typeof sloSchema>;
export type DeploymentConfig = z.infer<typeof deploymentSchema>;
export type VersionConfig = DeploymentConfig['versions'][number];
export type AutoscalingConfig = z.infer<typeof autoscalingSchema>;
export type RolloutAnalysisConfig = z.infer<typeof rolloutAnalysisSchema>;
export type MirrorConfig = z.infer<typeof mirrorSchema>;
export type AutoscalerConfig = z.infer<typeof autoscalerSchema>;
