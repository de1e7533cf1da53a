import type { Db } from '../../db/client.ts';
import { listAudit, recordAudit } from '../../db/queries/audit.ts';
import { insertRunbook, type RunbookContent } from '../../db/queries/runbooks.ts';
import { withTransaction } from '../../db/transaction.ts';
import { ALERT_NAMES } from '../../slo/engine.ts';
import { runbookAction as actionSpec, type RunbookAction as ActionSpec } from '../../contract/control/runbooks.ts';
import { CANARY_RUNBOOK } from '../rollout/rollout-controller.ts';
import { DRIFT_ALERT, DRIFT_RUNBOOK } from '../drift/drift-monitor.ts';
import { HEAT_ALERT, HEAT_RUNBOOK } from '../host/heat-monitor.ts';

/** The audit action that marks a slug as seeded once, so a deleted seed runbook stays deleted. */
export const SEED_AUDIT_ACTION = 'runbook.seed';

type SeedStep = { title: string; kind: 'note' } | { title: string; kind: 'action'; action: ActionSpec };

export interface SeedRunbook {
  slug: string;
  title: string;
  tags: string[];
  alertNames: string[];
  bodyMd: string;
  steps: SeedStep[];
}

const note = (title: string): SeedStep => ({ title, kind: 'note' });
const action = (title: string, a: ActionSpec): SeedStep => ({ title, kind: 'action', action: a });

/** Both severities of the SLO engine's burn-rate alert (and of the rules `vigil slo rules` writes). */
const BURN_ALERTS = [ALERT_NAMES.page, ALERT_NAMES.ticket];

/**
 * The runbooks for vigil's common failures. The SLO engine links its burn alerts to
 * `error-budget-burn` (availability SLOs) or `latency-burn` (latency SLOs), and the rollout
 * controller links `VigilCanaryRolledBack` to `canary-rolled-back`; the other three have no
 * alert of vigil's own and are found by tag.
 */
export const seedRunbookList: SeedRunbook[] = [
  {
    slug: 'error-budget-burn',
    title: 'Error budget burning (availability SLO)',
    tags: ['slo', 'availability', 'alert'],
    alertNames: BURN_ALERTS,
    bodyMd: `An availability SLO is spending its error budget too fast. The SLO engine evaluates every SLO
every 5 s (\`slo_engine.evaluation_interval_s\`) and fires **${ALERT_NAMES.page}** when the burn rate is
at least 14.4× over 1 h and 5 min, or 6× over 6 h and 30 min, and **${ALERT_NAMES.ticket}** at 3× over
1 d and 2 h, or 1× over 3 d and 6 h (the defaults of \`slo_engine.burn_windows\`). A burn rate of 1
spends exactly the whole budget over the SLO's window; at 14.4× a 30-day budget is gone in about two days.

A bad event is a **5xx answer**: model or handler failures (500), injected faults
(\`VIGIL_ERR_FAULT_INJECTED\`), load shed (503 \`VIGIL_ERR_OVERLOADED\`), no replica
(503 \`VIGIL_ERR_NOT_READY\`), lost replicas (503 \`VIGIL_ERR_REPLICA_LOST\`) and deadlines
(504 \`VIGIL_ERR_DEADLINE_EXCEEDED\`). 4xx answers are the client's doing and count as good.

## Where the numbers are

- The alert's labels name the SLO (\`slo_id\`), the \`deployment\` and \`slo_kind\`; its annotations
  carry the burn rates per window pair and \`budget_remaining\`.
- \`GET /api/v1/slos/{slo_id}\`: the SLI, budget left, time to exhaustion, the burn rate per window and,
  under \`versions\`, each version's 1 h error ratio and 1 h / 5 min burn: **which version burns**.
- A page opens an incident: \`GET /api/v1/incidents?status=open\`.
- Prometheus: \`sum by (version, code) (rate(vigil_requests_total{deployment="DEPLOYMENT", code=~"5.."}[5m]))\`
  says which status codes; \`sum by (reason) (rate(vigil_rejected_requests_total{deployment="DEPLOYMENT"}[5m]))\`
  says why requests were refused (\`overload\`, \`deadline\`, \`not_ready\`, \`replica_lost\`, ...).

## Common causes

| Errors | Likely cause | Runbook |
|---|---|---|
| Mostly one version, a rollout in progress | a bad canary the analysis has not caught yet | pause or roll back (steps below) |
| 503 \`VIGIL_ERR_OVERLOADED\`, 504 | more traffic than the replicas serve | [overload](/runbooks/overload) |
| 503 \`VIGIL_ERR_NOT_READY\` / \`VIGIL_ERR_REPLICA_LOST\`, restarts climbing | replicas crashing or OOM-killed | [replica-crash-loop](/runbooks/replica-crash-loop) |
| 503 \`VIGIL_ERR_NOT_READY\` from start, \`CRASH_LOOP\` with a \`lastError\` | the model does not load | [model-load-failure](/runbooks/model-load-failure) |
| 500 \`VIGIL_ERR_FAULT_INJECTED\` | fault injection left on after a game day | \`PUT /api/v1/deployments/{name}/versions/{version}/fault-injection\` with \`{"error_rate": 0}\` |

Every change made here is written to the audit log (\`GET /api/v1/audit\`), and each step you run
from this runbook is recorded with it.`,
    steps: [
      note(
        'Find the SLO, the deployment and the version that burns: GET /api/v1/slos/{slo_id} (per-version burn) and `vigil status`',
      ),
      note(
        'Look at the 5xx codes and the rejection reasons (vigil_requests_total by code, vigil_rejected_requests_total by reason) and pick the matching runbook in the table above',
      ),
      action('If a rollout is in progress and the canary burns: pause it to look', { type: 'pause_rollout' }),
      action('If the canary is the cause: roll it back (the stable version takes 100%)', { type: 'rollback_rollout' }),
      action('If requests are shed (503 VIGIL_ERR_OVERLOADED) on a fixed-size version: add replicas', {
        type: 'scale',
      }),
      action('Once mitigated and the burn rate falls: silence the alert for an hour while the long windows recover', {
        type: 'silence_alert',
        duration: '1h',
      }),
      note('Check the budget left (budget_remaining) and, if it is spent, hold risky rollouts until it recovers'),
    ],
  },
  {
    slug: 'latency-burn',
    title: 'Latency SLO burning',
    tags: ['slo', 'latency', 'alert'],
    alertNames: BURN_ALERTS,
    bodyMd: `A latency SLO is spending its error budget too fast: too many requests take longer than the SLO's
\`threshold_ms\`. The alerts are the same as for availability (**${ALERT_NAMES.page}**,
**${ALERT_NAMES.ticket}**, with the same burn-rate windows); the alert's \`slo_kind\` label is
\`latency\` and its \`runbook\` annotation points here. A request is good when it is answered within the
threshold (inclusive), measured end to end at the router: from the first byte read to the last byte
written, so queueing and body upload count.

## Where the time goes

A request's time is queue wait in the router + batching wait + the model run + encoding:

- \`vigil_queue_wait_seconds\`: waiting for a replica slot (\`max_ongoing_requests\` per replica is full).
  Growing queue wait with \`vigil_queued_requests\` above 0 means too few replicas: see
  [overload](/runbooks/overload).
- \`vigil_inference_duration_seconds\` (by \`provider\`): one \`session.run\`. If it grew, check the
  PROVIDER column of \`vigil status\`: a replica that fell back from CUDA or WebGPU to CPU logs
  \`execution provider X failed to load; trying the next one\`.
- \`vigil_batch_size\` and \`batching.batch_wait_timeout_ms\`: a batch wait adds to every request's latency.
- \`vigil_event_loop_lag_seconds\` for the primary: a saturated primary delays every request
  (CPU shared with too many replicas × \`intra_op_threads\`).
- \`fault_injection.added_latency_ms\` left on for a version adds that delay to each of its requests.

\`GET /api/v1/slos/{slo_id}\` shows the burn per version (\`versions\`); a canary that is slower than the
stable by more than \`max_latency_ratio\` (1.2×) **and** \`min_latency_delta_ms\` (20 ms) at p95, with
significantly more slow requests over the same interval, is rolled back by the rollout analysis, but a
smaller regression can still burn a tight SLO.

Traces (when \`OTEL_EXPORTER_OTLP_ENDPOINT\` is set) split one slow request into \`vigil.queue\`,
\`vigil.batch\` and \`vigil.inference\`; the exemplars on \`vigil_request_duration_seconds\` carry their trace ids.`,
    steps: [
      note(
        'Find the deployment and version: GET /api/v1/slos/{slo_id} (per-version burn), then compare vigil_queue_wait_seconds with vigil_inference_duration_seconds',
      ),
      action('If requests queue (vigil_queued_requests > 0) on a fixed-size version: add replicas', { type: 'scale' }),
      action('If a rollout is in progress and the canary is slower: pause it', { type: 'pause_rollout' }),
      action('If the canary is the cause: roll it back', { type: 'rollback_rollout' }),
      note(
        'If one replica is slow (event-loop lag, fallen back to CPU), restart it; compare PROVIDER in `vigil status`',
      ),
      action('Restart a slow replica (it drains, then the controller starts a replacement)', {
        type: 'restart_replica',
      }),
      action('Once mitigated: silence the alert for an hour while the windows recover', {
        type: 'silence_alert',
        duration: '1h',
      }),
    ],
  },
  {
    slug: CANARY_RUNBOOK,
    title: 'A canary was rolled back',
    tags: ['rollout', 'canary', 'alert'],
    alertNames: ['VigilCanaryRolledBack'],
    bodyMd: `vigil's rollout analysis found a failing check and rolled the canary back by itself. The alert
**VigilCanaryRolledBack** (severity \`page\`) goes to each receiver in \`alerting.webhooks\`, with labels
\`deployment\`, \`version\` (the canary) and \`rollout_id\`, the rollout's reason (with the numbers) as its
\`description\`, and \`generatorURL: <external_url>/api/v1/rollouts/{id}\`. It ends an hour after the
rollback: a rollback is an event, not a condition that clears. It is not an SLO alert, so it opens no
incident. Without webhooks, look for the log line \`rollout RolledBack\` and
\`vigil_rollouts_total{outcome="RolledBack"}\`.

## What vigil did

In one transaction: the rollout's status \`RolledBack\` with the failing checks as its \`reason\` and the
whole analysis; the split with the stable version at weight 100 and the canary at 0, retired; the audit
row \`rollout.rollback\` (actor \`vigil/rollout-controller\`); and the webhook deliveries. Then the router
changed: new requests go to the stable version, requests already on the canary finish there, and the
canary's replicas drain and stop. The stable version ran throughout, so it takes the traffic back at once.
**The rollback needs nothing else from you.**

## Where the numbers are

\`\`\`sh
npx vigil rollout status DEPLOYMENT          # status, weight, step and the reason line
npx vigil rollout status DEPLOYMENT --json   # the whole document
\`\`\`

\`GET /api/v1/deployments/{name}/rollout\` answers \`{"active": null, "latest": {...}}\`; in \`latest\`:
\`reason\`, \`analysis.checks[]\` (each check's \`name\`, \`outcome\`, \`value\`, \`threshold\`, \`detail\`),
\`analysis.canary\` and \`analysis.stable\` (\`requests\`, \`errors\`, \`errorRatio\`, \`p95Ms\`, \`p99Ms\`), \`stepIndex\`
and \`settings\` (the thresholds it was judged by). The audit log has the rollback and the steps before it:
\`GET /api/v1/audit?action=rollout.rollback&target=deployment/{name}\`.

## Which check failed

- \`error_burn_rate\`: look at the canary's 5xx codes (\`vigil_requests_total{version="v2"}\` by \`code\`), its
  replicas' \`lastError\` and restarts in \`vigil status --json\`, and its \`fault_injection\` (a fault left
  on from a game day rolls back too).
- \`latency\`: compare the canary's execution provider, batching and model size with the stable's.
- \`output_agreement\`: the new model answers differently; compare outputs offline.

## Rolling out the fix

To look at the canary without client traffic, make it the mirror version
(\`PUT /api/v1/deployments/{name}/mirror\` with \`{"version": "v2", "percent": 10}\`): it starts replicas again,
gets shadow copies and answers requests pinned with \`x-vigil-version: v2\`. \`DELETE .../mirror\` stops the copies.

Then either point v2's \`model\` at the fixed file, restart vigil and start the rollout by hand
(\`vigil rollout start DEPLOYMENT --version v2\`; a \`rollout\` block in \`vigil.yaml\` does not start twice for
one version), or add the fixed model as a new version with a \`rollout\` block naming it (changing the list of
versions re-seeds the split from the file, so check its weights first).`,
    steps: [
      note('Confirm the stable version is healthy: `vigil status`, its error rate and latency'),
      note(
        'Read which check failed: `vigil rollout status DEPLOYMENT` (reason) and analysis.checks in GET /api/v1/deployments/{name}/rollout',
      ),
      action('If the stable version is short of replicas now that it takes all the traffic: scale it', {
        type: 'scale',
      }),
      note(
        'Mirror the canary (PUT /api/v1/deployments/{name}/mirror) to look at it without client traffic; DELETE .../mirror when done',
      ),
      note('Fix the model, then start the rollout again: `vigil rollout start DEPLOYMENT --version VERSION`'),
    ],
  },
  {
    slug: 'replica-crash-loop',
    title: 'Replicas crash, are OOM-killed or fail health checks',
    tags: ['replicas', 'crash-loop', 'oom'],
    alertNames: [],
    bodyMd: `Replicas of a version keep stopping and being replaced. The controller replaces a stopped replica
at once, then backs off: 0.5 s, 1 s, 2 s, ... doubling up to 30 s; a replica that reaches RUNNING resets
the count. Three failures in a row mark the version as in a **crash loop**: \`crashLoop: true\` and
\`lastError\` in \`vigil status --json\` (and \`/api/v1/status\`), \`CRASH_LOOP\` in the STATE column of
\`vigil status\` when the version has no replica process at all. Meanwhile requests fail fast with 503
\`VIGIL_ERR_NOT_READY\`, and requests held by a dying replica are retried once elsewhere, then fail with
503 \`VIGIL_ERR_REPLICA_LOST\`.

## Why they stop

The log line \`replica stopped; it will be replaced\` carries \`reason\`, \`restarts\` and \`crash_loop\`;
\`vigil_replica_restarts_total\` counts by \`reason\`:

| reason | meaning | what to look at |
|---|---|---|
| \`crash\` | the process died: a native crash in ONNX Runtime, or a SIGKILL (**OOM kill**) | \
\`dmesg\` / \`journalctl -k\` for \`Out of memory: Killed process <pid>\`, a container's \`OOMKilled\`; \
\`vigil_replica_memory_bytes{kind="rss"}\` before the crash |
| \`load_failed\` | the model did not load or warm up | [model-load-failure](/runbooks/model-load-failure) |
| \`startup_timeout\` | loading took longer than \`startup_timeout_s\` (120 s) | raise it for large models or slow GPU initialisation |
| \`health_check\` | silent longer than \`health_check_timeout_s\` (30 s) while owing an answer | \
a run that takes longer than the timeout (a huge batch) or a hung native call; raise the timeout if runs are legitimately long |
| \`link_lost\` | the replica's process lives but its tensor socket to the primary closed | the log lines just before it |

## Out of memory

Each replica holds its own ONNX Runtime session, so memory grows with \`num_replicas\`, and with
\`batching.max_batch_size\` (bigger batches, bigger tensors) and \`multiplex.max_models_per_replica\`.
Compare the RSS column of \`vigil status\` with the machine's (or the container's) limit. Fewer replicas,
smaller batches or fewer multiplexed models per replica fit more safely; a slow leak shows as RSS that
climbs over hours, which a replica restart resets.

An autoscaled version never grows past \`autoscaler.memory_budget_bytes\` (80% of the machine by
default), but fixed-count versions and other processes on the machine are not held to it.`,
    steps: [
      note(
        'Which version, and why: `vigil status --json` (restarts, crashLoop, lastError) and the `replica stopped; it will be replaced` log lines (reason)',
      ),
      note(
        'For reason crash: check the kernel log for an OOM kill of the replica pid, and vigil_replica_memory_bytes{kind="rss"} per replica',
      ),
      action('If the crash-looping version is a rollout canary: roll it back', { type: 'rollback_rollout' }),
      action('If the crash-looping version takes traffic and another version is healthy: move the traffic', {
        type: 'set_weight',
      }),
      action('If replicas are OOM-killed: run fewer of them so they fit in memory', { type: 'scale' }),
      action('If one replica leaks memory or hangs: restart it', { type: 'restart_replica' }),
      note(
        'Make the fix last in vigil.yaml (num_replicas, batching.max_batch_size, startup_timeout_s, health_check_timeout_s): counts set through the API last until restart',
      ),
    ],
  },
  {
    slug: 'overload',
    title: 'Overload: requests shed with 503 VIGIL_ERR_OVERLOADED',
    tags: ['overload', 'capacity', 'backpressure'],
    alertNames: [],
    bodyMd: `A version gets more requests than its replicas can serve. Each replica holds at most
\`max_ongoing_requests\` (16) requests; past that, requests wait in the router's FIFO queue, which holds
at most \`max_queued_requests\` (256) per version. When it is full, new requests are **shed at once**
with 503 \`VIGIL_ERR_OVERLOADED\` and a \`Retry-After\` header (the queue length divided by the measured
completion rate, 1–60 s). Queued requests that reach their deadline (\`request_timeout_s\`, 30 s, or the
client's \`x-vigil-timeout-ms\`) get 504 \`VIGIL_ERR_DEADLINE_EXCEEDED\`. Both count as bad events for
availability SLOs, so sustained shedding also fires [error-budget-burn](/runbooks/error-budget-burn).

Shedding is vigil protecting itself: a bounded queue keeps latency bounded for the requests it admits.
Clients should honour \`Retry-After\`.

## Signs

- \`rate(vigil_rejected_requests_total{reason="overload"}[5m])\` above 0 (\`reason="deadline"\` for 504s).
- \`vigil_queued_requests\` near \`max_queued_requests\`; \`vigil_ongoing_requests\` at replicas ×
  \`max_ongoing_requests\`; \`vigil_queue_wait_seconds\` growing. The QUEUED column of \`vigil status\`.
- \`vigil_target_replicas\` compared with \`vigil_replicas{state="RUNNING"}\`: replicas still starting, or
  crashing ([replica-crash-loop](/runbooks/replica-crash-loop)), serve nothing.

## What to do

- **Fixed-size version**: add replicas (the scale step, \`PUT .../versions/{version}/replicas\`). They
  start at the controller's next pass and serve once loaded; the count lasts until restart, so
  raise \`num_replicas\` in \`vigil.yaml\` too. Each replica runs on \`intra_op_threads\` threads and holds
  its own copy of the model, so size the count against the cores and memory you have.
- **Autoscaled version**: the scale step is refused (409 \`VIGIL_ERR_CONFLICT\`); the autoscaler adds
  replicas after \`upscale_delay_s\` (30 s), up to \`max_replicas\` and the memory budget
  (\`vigil_autoscaler_memory_capped\` = 1 means the budget stops it). Raise \`max_replicas\` in \`vigil.yaml\`.
- **Several versions**: move traffic to the one with spare capacity (set weight), if no rollout owns the
  weights (409 \`VIGIL_ERR_ROLLOUT_ACTIVE\` otherwise: pause, promote or abort it first).
- Raising \`max_queued_requests\` trades shedding for latency and deadlines: it rarely helps.`,
    steps: [
      note(
        'Confirm: vigil_rejected_requests_total{reason="overload"}, vigil_queued_requests and the QUEUED column of `vigil status`',
      ),
      note(
        'Check that the replicas you have are RUNNING (vigil_target_replicas vs vigil_replicas{state="RUNNING"}); if they crash, follow replica-crash-loop',
      ),
      action('Add replicas to the overloaded version (fixed-size versions only)', { type: 'scale' }),
      action('Or move traffic to a version with spare capacity', { type: 'set_weight' }),
      action('If a rollout is in progress, pause it so no step adds load to a version that cannot take it', {
        type: 'pause_rollout',
      }),
      note('Make the capacity last: num_replicas, or autoscaling.max_replicas, in vigil.yaml'),
    ],
  },
  {
    slug: 'model-load-failure',
    title: 'A model fails to load',
    tags: ['model', 'startup', 'crash-loop'],
    alertNames: [],
    bodyMd: `A version's replicas cannot load or warm up their model, so the version never gets a RUNNING
replica. Each replica reports the error, exits, and is replaced with back-off (0, 0.5, 1, 2, ... 30 s).
The signs:

- the error log line \`model load failed\` from the replica, with the error;
- \`CRASH_LOOP\` in \`vigil status\` and \`lastError\` (the load error) and \`crashLoop: true\` in
  \`vigil status --json\`; \`vigil_replica_restarts_total{reason="load_failed"}\`
  (\`reason="startup_timeout"\` when loading takes longer than \`startup_timeout_s\`);
- requests to the version fail fast with 503 \`VIGIL_ERR_NOT_READY\` (model metadata too, until a replica has loaded it);
  \`/v2/health/ready\` stays 503 while the version has weight above 0 (a dark version does not hold it back).

A canary that cannot keep a replica running is rolled back by the rollout controller after 30 s at a
weight above 0 (or \`startup_timeout_s\` + 30 s before its first step).

## Common causes

| \`lastError\` says | cause | fix |
|---|---|---|
| no such file, or a hash mismatch for \`name:version\` | \
the model path, or a packed artifact that is missing or damaged | \
check \`model\` in \`vigil.yaml\` (paths are relative to the config file); \`vigil models\` lists the registry |
| an unsupported operator or opset | the model needs a newer ONNX Runtime than onnxruntime-node 1.30 | re-export the model with a lower opset |
| a warm-up failure | \`warmup.shapes\` do not fit the model's inputs (with \`shapes\` set, a warm-up failure is fatal) | fix the shapes, or remove them to warm up with guessed shapes |
| out of memory during load | the model does not fit next to the other replicas | see [replica-crash-loop](/runbooks/replica-crash-loop) |
| a handler error | the deployment's \`handler\` module throws while loading | the handler's own log lines |

A GPU provider that fails (\`execution provider cuda failed to load; trying the next one\`) is not a load
failure: the replica falls back to CPU, runs slower, and says so in the PROVIDER column.`,
    steps: [
      note('Read the error: `vigil status --json` (lastError) and the `model load failed` log line'),
      action('If the failing version is a rollout canary: roll it back now rather than waiting 30 s', {
        type: 'rollback_rollout',
      }),
      action('If the failing version has traffic and another version loads: give that version the traffic', {
        type: 'set_weight',
      }),
      action('Stop the restart loop of a dark (weight 0) version that cannot load: scale it to 0 replicas', {
        type: 'scale',
        replicas: 0,
      }),
      note('Fix the model file, warmup.shapes or startup_timeout_s in vigil.yaml, then restart vigil'),
    ],
  },
  {
    slug: 'wrong-answers',
    title: 'Probes get wrong answers (correctness SLO burning)',
    tags: ['slo', 'correctness', 'probes', 'alert'],
    alertNames: [],
    bodyMd: `A \`correctness\` SLO is burning: the deployment's probes (synthetic requests with known answers,
\`probes:\` in vigil.yaml) get answers that do not meet their expectations. The service may be fast and
error-free: this is about what it answers. The burn alerts carry \`slo_kind="correctness"\`.

## Where the numbers are

\`\`\`sh
npx vigil probe run DEPLOYMENT --version V     # each probe now: PASS, or FAIL with the difference
curl -s localhost:8000/api/v1/deployments/DEPLOYMENT/probes   # the latest run of each probe on each version
\`\`\`

\`vigil_probe_results_total{result="fail"}\` by \`version\` and \`probe\` says which version answers wrongly.

## Common causes

| what you see | cause | fix |
|---|---|---|
| one version fails, the others pass | a wrong or corrupted model, a preprocessing change, bad data | give the good version the traffic |
| every version fails the same probe | the expectation is wrong (the model changed on purpose), or inputs the probe depends on moved | re-record it from a known-good version: \`vigil probe record\` |
| failures only on some replicas | a provider that computes differently (a GPU kernel against the CPU one) | pin \`execution_provider: cpu\` and compare |
| \`result="error"\` | no answer: see the availability runbook | [error-budget-burn](/runbooks/error-budget-burn) |`,
    steps: [
      note('Run the probes now on each version: `vigil probe run DEPLOYMENT --version V`'),
      action('If a rollout canary is the version that fails: roll it back', { type: 'rollback_rollout' }),
      action('Give a version that passes all the traffic', { type: 'set_weight' }),
      note('If the expectation is what changed: `vigil probe record DEPLOYMENT --version GOOD` and update vigil.yaml'),
    ],
  },
  {
    slug: HEAT_RUNBOOK,
    title: 'A node is hot or under pressure',
    tags: ['node', 'heat', 'pressure', 'autoscaling', 'alert'],
    alertNames: [HEAT_ALERT],
    bodyMd: `**${HEAT_ALERT}** (severity \`ticket\`, labels \`node\` and \`capped_by\`): the machine has been hot, throttling,
or under CPU or memory pressure for \`heat.sustain\` (30 s), so vigil holds its replica count: the autoscaler makes
no scale-up on this node (scale-downs go on, with draining) until every condition has been clear for
\`heat.recover\` (2 min). On a hot or saturated machine more replicas make every replica slower.

## Where the numbers are

\`\`\`sh
npx vigil doctor                         # the machine, its sensors (and which it lacks), what vigil chooses
npx vigil status --json | jq .host       # the last readings and the cap
\`\`\`

\`vigil_host_temperature_celsius\`, \`vigil_host_pressure_ratio{resource}\`, \`vigil_host_throttle_events\`,
\`vigil_heat_capped{reason}\`; the audit log's \`heat.cap\` and \`heat.lift\` rows; \`capped_by: thermal | pressure\`
in each autoscaled version's \`autoscaling\`.

## Common causes

| \`capped_by\` | what you see | what to do |
|---|---|---|
| \`thermal\` | a zone at \`heat.max_celsius\` (85 °C) or throttle events rising | airflow, a fanless box in the sun, a laptop lid closed; fewer replicas or a lower \`max_batch_size\` on this node |
| \`pressure\` (cpu) | CPU pressure over \`heat.cpu_pressure_pct\` | the node is saturated: other processes, too many replicas for its cores; add nodes rather than replicas |
| \`pressure\` (memory) | memory pressure over \`heat.memory_pressure_pct\` | the node is swapping or reclaiming: fewer replicas, a smaller model, or more memory |`,
    steps: [
      note('Read the signals: `vigil doctor` and `vigil status --json` (host)'),
      action('Shed load off this node: give another version or node the traffic', { type: 'set_weight' }),
      action('Fewer replicas on a saturated node', { type: 'scale' }),
      note('If the thresholds are wrong for this machine: heat.max_celsius, heat.cpu_pressure_pct in vigil.yaml'),
    ],
  },
  {
    slug: DRIFT_RUNBOOK,
    title: 'Prediction drift',
    tags: ['model', 'drift', 'alert'],
    alertNames: [DRIFT_ALERT],
    bodyMd: `**${DRIFT_ALERT}** (severity \`ticket\`): what a version answers, or what it is asked, has moved away from
its baseline for longer than \`drift.for\` (10 min by default). The baseline is the stable version over the
same window when the drifting version is a canary or a minor one, else the version's own window before
(\`drift.window\`, 1 h). The measure is the Population Stability Index (0.25 and above: a significant
shift). Drift is not an error: the model may be right about a world that changed. It is a question to answer.

## Where the numbers are

- \`vigil_prediction_drift{deployment,version,signal}\`, and the console's Deployments page, which shows both
  distributions side by side;
- \`curl -s localhost:8000/api/v1/deployments/DEPLOYMENT/drift\`: each signal's PSI and bins.

Signals: \`output.NAME.class\` (a classifier's top-1 classes), \`output.NAME.mean\`, and \`input.NAME.mean\` /
\`input.NAME.rms\` (what the model is asked).

## Reading it

| drifting signals | likely cause |
|---|---|
| inputs and outputs | the traffic changed: new clients, a new source, a preprocessing change upstream |
| outputs only, against the stable version | the canary's model behaves differently on the same traffic: check its probes |
| outputs only, against its own past | the model is the same, so the mix of inputs changed in a way the input summary misses |`,
    steps: [
      note('Look at the two distributions on the console (Deployments) or GET /api/v1/deployments/NAME/drift'),
      note('Check the probes of the drifting version: `vigil probe run DEPLOYMENT --version V`'),
      action('If a canary drifts from the stable version on the same traffic: roll it back', {
        type: 'rollback_rollout',
      }),
      action('Once understood: silence the ticket for a day', { type: 'silence_alert', duration: '1d' }),
    ],
  },
];

function contentOf(r: SeedRunbook): RunbookContent {
  return {
    title: r.title,
    bodyMd: r.bodyMd,
    tags: r.tags,
    alertNames: r.alertNames,
    // Validated like an API save, so a seed can never hold an action the API would refuse.
    steps: r.steps.map((s) => ({
      title: s.title,
      kind: s.kind,
      action: s.kind === 'action' ? actionSpec.parse(s.action) : null,
    })),
  };
}

/**
 * Inserts the runbooks for the common failures. Each slug is seeded once per database: only when
 * no runbook has that slug and no `runbook.seed` audit row says it was seeded before. So an
 * operator's edits are never overwritten, a seed runbook the operator deleted does not come back,
 * and a runbook added to this list in a later version appears on the next start.
 */
export async function seedRunbooks(db: Db): Promise<void> {
  const seeded = new Set((await listAudit(db, { action: SEED_AUDIT_ACTION, limit: 1000 })).map((e) => e.target));
  for (const r of seedRunbookList) {
    const target = `runbook/${r.slug}`;
    if (seeded.has(target)) continue;
    await withTransaction(db, async (tx) => {
      // Taken slug (an operator's own runbook, or a node sharing the database that seeded first): leave it.
      const created = await insertRunbook(tx, r.slug, contentOf(r));
      if (created)
        await recordAudit(tx, {
          actor: 'vigil',
          action: SEED_AUDIT_ACTION,
          target,
          after: { title: r.title, steps: r.steps.length },
        });
    });
  }
}
