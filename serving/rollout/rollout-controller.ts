import { describeFailure, type ProbeResult, type ProbeSummary } from '../probes/prober.ts';
import type { Db } from '../../db/client.ts';
import { recordAudit } from '../../db/queries/audit.ts';
import { enqueueWebhook } from '../../db/queries/outbox.ts';
import { upsertAlertState } from '../../db/queries/alerts.ts';
import { insertRollout, listActiveRollouts, updateRollout } from '../../db/queries/rollouts.ts';
import type { Rollout, RolloutStatus } from '../../db/schema/index.ts';
import { withTransaction } from '../../db/transaction.ts';
import { fingerprint } from '../../slo/alert-state.ts';
import { buildWebhookPayload, type WebhookAlert } from '../../slo/alertmanager-payload.ts';
import type { WebhookReceiver } from '../../slo/engine.ts';
import type { RolloutAnalysisConfig } from '../config/schema.ts';
import { VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Deployment, DeploymentRouter } from '../router/deployment-router.ts';
import type { MirrorTotals } from '../router/mirror.ts';
import type { DeploymentState, StateChange } from '../traffic/deployment-state.ts';
import { analyzeCanary, type AnalysisThresholds, type CanaryAnalysis } from './canary-analysis.ts';
import type { RequestWindow } from './live-window.ts';
import type { FinishedRequests } from '../telemetry/finished-requests.ts';
import type { Leadership } from '../cluster/leadership.ts';
import type { Tx } from '../../db/transaction.ts';
import { decideRollout, type RolloutDecision } from './rollout-policy.ts';

/** The thresholds a rollout is judged by, as stored in its row (config defaults plus overrides). */
export interface RolloutSettings extends AnalysisThresholds {
  shortWindowS: number;
  mirrorPercent: number;
}

export function settingsFromConfig(c: RolloutAnalysisConfig, objective: number): RolloutSettings {
  return {
    minRequests: c.min_requests,
    confidence: c.confidence,
    burnRateFactor: c.burn_rate_factor,
    objective,
    maxLatencyRatio: c.max_latency_ratio,
    minLatencyDeltaMs: c.min_latency_delta_ms,
    latencyMinRequests: c.latency_min_requests,
    minExcessShare: c.min_excess_share,
    minAgreement: c.min_agreement,
    minMirrorSamples: c.min_mirror_samples,
    maxDrift: c.max_drift,
    shortWindowS: c.short_window_s,
    mirrorPercent: c.mirror_percent,
  };
}

export const CANARY_RUNBOOK = 'canary-rolled-back';
/** The actor of the controller's own decisions, in the audit log. */
const CONTROLLER = 'vigil/rollout-controller';
const LONG_WINDOW_FLOOR_MS = 2 * 60_000;
/** Requests of a canary's first step that its latency is not judged on. */
const WARM_REQUESTS = 10;
/** How long a canary with traffic may go without a running replica before it is rolled back. */
const CANARY_UNREADY_MS = 30_000;

export interface RolloutControllerOptions {
  db: Db;
  router: DeploymentRouter;
  state: DeploymentState;
  /** Request counts per version and second: this node's, or (on Postgres) every node's. */
  window: RequestWindow & { refresh?(nowMs: number): Promise<void> };
  /** Only the leader judges rollouts; every node follows their rows for status and API checks. */
  leadership: Leadership;
  /** Whether some node runs a replica of this version (default: this node's pool). */
  versionRunning?(deployment: Deployment, version: string): boolean;
  /** Shadow comparisons of this candidate across the cluster (default: this node's). */
  mirrorTotals?(deployment: Deployment, version: string): MirrorTotals;
  log: Logger;
  analysis: RolloutAnalysisConfig;
  /** The deployment's availability objective (its strictest availability SLO), if it declares one. */
  objectiveFor(deployment: string, canary: string): number | undefined;
  receivers: readonly WebhookReceiver[];
  externalUrl: string;
  /** Called after each applied change, so the replica controller acts at once rather than at its next tick. */
  afterChange?(): void;
  onFinished?(deployment: string, status: RolloutStatus): void;
  /** The deployments' probes (serving/probes/prober.ts): the gate before the first step, and a check. */
  /** The canary's worst drift against the stable version now (the optional prediction_drift check). */
  drift?(deployment: string, canary: string, stable: string): { psi: number | null; signal: string | null };
  probes?: {
    has(deployment: string, version: string): boolean;
    runAll(deployment: string, version: string): Promise<ProbeResult[]>;
    summary(deployment: string, version: string, since: number): ProbeSummary;
  };
  now?: () => number;
}

export interface StartRollout {
  deployment: string;
  version: string;
  steps: number[];
  intervalSeconds: number;
  overrides?: Partial<RolloutSettings>;
  actor: string;
}

export type RolloutAction = 'pause' | 'resume' | 'promote' | 'abort';

interface ActiveRollout {
  row: Rollout;
  settings: RolloutSettings;
  stepStartedAt: number;
  /** Mirror totals when the rollout started (or resumed after a restart). */
  mirrorBaseline: MirrorTotals;
  lastAnalysis: CanaryAnalysis | undefined;
  lastDecision: RolloutDecision | undefined;
  /** Since when the canary has had no RUNNING replica (undefined while it has one). */
  unreadySince: number | undefined;
}

/**
 * Runs canary rollouts: every analysis_interval_s it judges each Progressing rollout's canary
 * against its stable version (canary-analysis.ts) and acts on the decision (rollout-policy.ts):
 * hold, advance a step, promote, or roll back. Each change is written (rollout row, traffic
 * state, audit row, and for a rollback the webhook alert, in one transaction) before it is
 * applied to the router. Work on one deployment is serialised, so an API call and the loop
 * never interleave, and every status change is a compare-and-set on the status last seen.
 */
export class RolloutController {
  private readonly active = new Map<string, ActiveRollout>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly now: () => number;

  constructor(private readonly o: RolloutControllerOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Follows the active rollouts as stored: every node keeps their rows (for status, the console
   * and the API's checks), whoever runs them. Called at start and whenever a node changed one.
   * A rollout whose versions this node's vigil.yaml lacks is aborted, by the leader only.
   */
  async followActive(): Promise<void> {
    const rows = await listActiveRollouts(this.o.db);
    const ids = new Set(rows.map((r) => r.id));
    for (const [name, a] of this.active) if (!ids.has(a.row.id)) this.active.delete(name);
    for (const row of rows) {
      const d = this.o.router.deployments.get(row.deployment);
      if (!d?.pools.has(row.canaryVersion) || !d.pools.has(row.stableVersion)) {
        if (this.o.leadership.isLeader) await this.abortUnknown(row);
        continue;
      }
      const a = this.active.get(d.name);
      if (a && a.row.id === row.id) {
        // The leader's own view is newer than what it last stored; a follower takes the row's.
        if (!this.o.leadership.isLeader || a.row.updatedAt < row.updatedAt) this.adopt(a, row);
      } else {
        this.track(d, row);
      }
    }
  }

  /**
   * This node has become the leader (at start, or after the previous leader died): it judges
   * the active rollouts from here on. Each resumes its current step, which starts over, and its
   * split is written again from the row, the authority while a rollout is active.
   */
  async takeOver(): Promise<void> {
    await this.followActive();
    for (const [name, a] of this.active) {
      await this.serialised(name, async () => {
        const d = this.o.router.get(name);
        const apply = await withTransaction(this.o.db, async (tx) => {
          await this.o.leadership.fence(tx);
          return this.o.state.write(tx, d, this.splitFor(d, a.row, a.row.canaryWeight));
        });
        apply();
        this.restartStep(a);
        a.mirrorBaseline = this.mirrorOf(d, a.row.canaryVersion);
        this.o.log.info(
          {
            rollout: a.row.id,
            deployment: name,
            canary: a.row.canaryVersion,
            step: a.row.stepIndex,
            weight: a.row.canaryWeight,
            status: a.row.status,
            epoch: this.o.leadership.epoch,
          },
          'rollout resumed by this leader; its current step starts over',
        );
      }).catch((err) =>
        this.o.log.error({ err, deployment: name }, 'could not resume the rollout; the next leader tick retries'),
      );
    }
    this.o.afterChange?.();
  }

  private async abortUnknown(row: Rollout): Promise<void> {
    const reason = `version ${row.canaryVersion} or ${row.stableVersion} of "${row.deployment}" is no longer in vigil.yaml`;
    await withTransaction(this.o.db, async (tx) => {
      await this.o.leadership.fence(tx);
      await updateRollout(tx, row.id, row.status, { status: 'Aborted', reason });
      await recordAudit(tx, {
        actor: 'vigil',
        action: 'rollout.abort',
        target: `deployment/${row.deployment}`,
        after: { rollout: row.id, reason },
      });
    });
    this.o.log.warn({ rollout: row.id, deployment: row.deployment, reason }, 'rollout aborted');
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.analysis.analysis_interval_s * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Live view of a deployment's active rollout: the row plus the last analysis and decision. */
  describe(deployment: string): (ActiveRollout & { stepElapsedSeconds: number }) | undefined {
    const a = this.active.get(deployment);
    return a && { ...a, stepElapsedSeconds: Math.max(0, (this.now() - a.stepStartedAt) / 1000) };
  }

  startRollout(req: StartRollout): Promise<Rollout> {
    return this.serialised(req.deployment, async () => {
      const d = this.o.router.get(req.deployment);
      if (!d.pools.has(req.version))
        throw new VigilError(
          'VIGIL_ERR_UNKNOWN_VERSION',
          `deployment "${d.name}" has no version "${req.version.slice(0, 100)}"`,
        );
      if (this.active.has(d.name))
        throw new VigilError('VIGIL_ERR_ROLLOUT_ACTIVE', `rollout ${this.active.get(d.name)!.row.id} of "${d.name}"`);
      const stable = [...d.split.entries].sort((a, b) => b.weight - a.weight)[0]!.version;
      if (stable === req.version)
        throw new VigilError(
          'VIGIL_ERR_CONFLICT',
          `version "${req.version}" already takes the most traffic of "${d.name}"; a canary must be another version`,
        );
      const objective = this.o.objectiveFor(d.name, req.version) ?? this.o.analysis.objective;
      const settings: RolloutSettings = { ...settingsFromConfig(this.o.analysis, objective), ...req.overrides };
      const before = this.o.state.rows(d);
      const { row, apply } = await withTransaction(this.o.db, async (tx) => {
        let inserted: Rollout;
        try {
          inserted = await insertRollout(tx, {
            deployment: d.name,
            stableVersion: stable,
            canaryVersion: req.version,
            status: 'Progressing',
            steps: req.steps,
            stepIndex: 0,
            intervalSeconds: req.intervalSeconds,
            canaryWeight: 0,
            settings: settings as unknown as Record<string, unknown>,
            startedBy: req.actor,
          });
        } catch (err) {
          // Another node (or a racing request) holds the one active rollout the index allows.
          throw new VigilError('VIGIL_ERR_ROLLOUT_ACTIVE', `"${d.name}" (${(err as Error).message.slice(0, 120)})`);
        }
        // The canary starts its replicas with weight 0; it gets its first step once one runs.
        const change: StateChange = { ...this.splitFor(d, inserted, 0), activate: [req.version] };
        if (settings.minAgreement !== null)
          change.mirror = {
            version: req.version,
            percent: settings.mirrorPercent,
            tolerance: d.mirror?.tolerance ?? 1e-4,
          };
        const apply = await this.o.state.write(tx, d, change);
        await recordAudit(tx, {
          actor: req.actor,
          action: 'rollout.start',
          target: `deployment/${d.name}`,
          before: { versions: before },
          after: {
            rollout: inserted.id,
            canary: req.version,
            stable,
            steps: req.steps,
            interval_seconds: req.intervalSeconds,
            settings,
          },
        });
        return { row: inserted, apply };
      });
      apply();
      this.track(d, row);
      this.o.log.info(
        {
          rollout: row.id,
          deployment: d.name,
          canary: req.version,
          stable,
          steps: req.steps,
          interval_s: req.intervalSeconds,
          by: req.actor,
        },
        'rollout started',
      );
      this.o.afterChange?.();
      return row;
    });
  }

  /** pause, resume, promote now, or abort (roll back by hand) the deployment's active rollout. */
  act(deployment: string, action: RolloutAction, actor: string): Promise<Rollout> {
    return this.serialised(deployment, async () => {
      const d = this.o.router.get(deployment);
      const a = this.active.get(d.name);
      if (!a) throw new VigilError('VIGIL_ERR_NO_ACTIVE_ROLLOUT', `"${d.name}"`);
      switch (action) {
        case 'pause':
        case 'resume': {
          const [from, to]: [RolloutStatus, RolloutStatus] =
            action === 'pause' ? ['Progressing', 'Paused'] : ['Paused', 'Progressing'];
          if (a.row.status !== from)
            throw new VigilError('VIGIL_ERR_CONFLICT', `rollout ${a.row.id} is ${a.row.status}, not ${from}`);
          const row = await withTransaction(this.o.db, async (tx) => {
            const updated = await updateRollout(tx, a.row.id, from, { status: to, reason: `${action}d by ${actor}` });
            if (!updated) throw new VigilError('VIGIL_ERR_CONFLICT', `rollout ${a.row.id} changed meanwhile`);
            await recordAudit(tx, {
              actor,
              action: `rollout.${action}`,
              target: `deployment/${d.name}`,
              before: { status: from },
              after: { rollout: a.row.id, status: to },
            });
            return updated;
          });
          a.row = row;
          // The step's interval starts over: the time spent paused proves nothing.
          if (action === 'resume') this.restartStep(a);
          this.o.log.info({ rollout: row.id, deployment: d.name, by: actor }, `rollout ${action}d`);
          return row;
        }
        case 'promote':
          return this.finish(
            d,
            a,
            'Promoted',
            `promoted by ${actor} at step ${a.row.stepIndex + 1}/${a.row.steps.length} (canary weight ${a.row.canaryWeight}%)`,
            actor,
          );
        case 'abort':
          return this.finish(
            d,
            a,
            'Aborted',
            `aborted by ${actor} at step ${a.row.stepIndex + 1}/${a.row.steps.length} (canary weight ${a.row.canaryWeight}%)`,
            actor,
          );
      }
    });
  }

  /** Called with every block of finished client requests (shadow calls are not in them). */
  recordFinished(f: FinishedRequests): void {
    // Always, not only during a rollout: the stable version's baseline is its recent past.
    this.o.window.recordFinished(f, this.now());
  }

  /** One analysis round over every active rollout (the leader's); exported for tests that drive the clock. */
  async tick(): Promise<void> {
    if (this.ticking || !this.o.leadership.isLeader) return;
    this.ticking = true;
    try {
      if (this.active.size > 0) await this.o.window.refresh?.(this.now());
      await Promise.all(
        [...this.active.keys()].map((name) =>
          this.serialised(name, () => this.judge(name)).catch((err) =>
            this.o.log.error({ err, deployment: name }, 'rollout analysis failed; it will be retried'),
          ),
        ),
      );
    } finally {
      this.ticking = false;
    }
  }

  private async judge(name: string): Promise<void> {
    const a = this.active.get(name);
    if (a?.row.status !== 'Progressing' || !this.o.leadership.isLeader) return;
    const d = this.o.router.get(name);
    const canary = d.pools.get(a.row.canaryVersion)!;
    const canaryReady = this.o.versionRunning
      ? this.o.versionRunning(d, a.row.canaryVersion)
      : canary.running().length > 0;
    const now = this.now();
    a.unreadySince = canaryReady ? undefined : (a.unreadySince ?? now);
    // A canary that cannot keep a replica running (a model that fails to load, a crash loop) is a
    // failed canary: with traffic it is failing requests, without it the rollout would wait forever.
    const unreadyLimitMs =
      a.row.canaryWeight > 0 ? CANARY_UNREADY_MS : canary.deployment.startup_timeout_s * 1000 + CANARY_UNREADY_MS;
    if (a.unreadySince !== undefined && now - a.unreadySince > unreadyLimitMs) {
      await this.finish(
        d,
        a,
        'RolledBack',
        `canary ${a.row.canaryVersion} has had no running replica for ${Math.round((now - a.unreadySince) / 1000)} s ` +
          `at weight ${a.row.canaryWeight}% (it fails to start or keeps crashing; see vigil status)`,
        CONTROLLER,
      );
      return;
    }
    // The first step begins once a canary replica runs, so no request waits on a cold canary,
    // and once its probes have passed, so a wrong model never takes a request.
    if (a.row.canaryWeight === 0) {
      if (!canaryReady) {
        a.lastDecision = { kind: 'hold', reason: `waiting for a running ${a.row.canaryVersion} replica` };
        return;
      }
      const probes = this.o.probes;
      if (probes?.has(d.name, a.row.canaryVersion)) {
        // Probes go through this node's own port: with nodes on one Postgres, a canary running
        // only elsewhere yet would answer them 503; wait for this node's replica.
        if (canary.running().length === 0) {
          a.lastDecision = {
            kind: 'hold',
            reason: `waiting for a ${a.row.canaryVersion} replica on this node to probe`,
          };
          return;
        }
        const results = await probes.runAll(d.name, a.row.canaryVersion);
        if (this.active.get(name) !== a || a.row.status !== 'Progressing') return;
        const failures = results.filter((r) => r.result !== 'pass');
        if (failures.length > 0) {
          await this.finish(
            d,
            a,
            'RolledBack',
            `before its first step, ${failures.map(describeFailure).join('; ')}`,
            CONTROLLER,
          );
          return;
        }
        await this.moveTo(
          d,
          a,
          0,
          `canary ${a.row.canaryVersion} is running and passed its ${results.length} probe(s)`,
        );
        return;
      }
      await this.moveTo(d, a, 0, `canary ${a.row.canaryVersion} is running`);
      return;
    }
    const analysis = this.analyse(d, a, now);
    a.lastAnalysis = analysis;
    const decision = decideRollout(
      {
        status: 'Progressing',
        steps: a.row.steps,
        stepIndex: a.row.stepIndex,
        stepStartedAt: a.stepStartedAt,
        intervalMs: a.row.intervalSeconds * 1000,
        canaryReady,
      },
      analysis,
      now,
    );
    a.lastDecision = decision;
    switch (decision.kind) {
      case 'hold':
        await this.storeAnalysis(a, analysis, decision);
        return;
      case 'advance':
        await this.moveTo(d, a, decision.stepIndex, decision.reason, analysis);
        return;
      case 'promote':
        await this.finish(d, a, 'Promoted', decision.reason, CONTROLLER, analysis);
        return;
      case 'rollback':
        await this.finish(d, a, 'RolledBack', decision.reason, CONTROLLER, analysis);
        return;
    }
  }

  private analyse(d: Deployment, a: ActiveRollout, now: number): CanaryAnalysis {
    const { canaryVersion, stableVersion, intervalSeconds } = a.row;
    const w = this.o.window;
    // The step so far, up to the interval, or two minutes when the interval is shorter: a step
    // held for lack of requests keeps gathering them instead of judging the same few forever.
    // Both versions are measured over this same interval, split into two disjoint parts: the
    // newest short_window_s seconds (at most half of it) and the rest.
    const since = Math.max(a.stepStartedAt, now - Math.max(intervalSeconds * 1000, LONG_WINDOW_FLOOR_MS));
    const fromS = Math.floor(since / 1000);
    const toS = Math.floor(now / 1000);
    const shortS = Math.max(1, Math.min(a.settings.shortWindowS, Math.floor((toS - fromS + 1) / 2)));
    const perSecond = (version: string) => {
      const out = [];
      for (let second = fromS; second <= toS; second++)
        out.push(w.summary(d.name, version, second * 1000, second * 1000));
      return out;
    };
    const mirror = this.mirrorOf(d, canaryVersion);
    return analyzeCanary({
      canary: perSecond(canaryVersion),
      stable: perSecond(stableVersion),
      shortSeconds: shortS,
      // A new canary's first requests at weight are left out of its latency: caches warm.
      warmRequests: a.row.stepIndex === 0 && since === a.stepStartedAt ? WARM_REQUESTS : 0,
      agreement: {
        compared: Math.max(0, mirror.compared - a.mirrorBaseline.compared),
        agreed: Math.max(0, mirror.agreed - a.mirrorBaseline.agreed),
      },
      probes: this.probesSince(d.name, canaryVersion, since),
      drift: a.settings.maxDrift != null ? this.o.drift?.(d.name, canaryVersion, stableVersion) : undefined,
      thresholds: a.settings,
      windows: { longSeconds: (now - since) / 1000, shortSeconds: shortS },
    });
  }

  private probesSince(deployment: string, version: string, since: number) {
    const probes = this.o.probes;
    if (!probes?.has(deployment, version)) return undefined;
    const s = probes.summary(deployment, version, since);
    return { runs: s.runs, failed: s.failed, lastFailure: s.lastFailure && describeFailure(s.lastFailure) };
  }

  /** Persists, then applies, the canary weight of step `stepIndex`. */
  private async moveTo(
    d: Deployment,
    a: ActiveRollout,
    stepIndex: number,
    reason: string,
    analysis?: CanaryAnalysis,
  ): Promise<void> {
    const weight = a.row.steps[stepIndex]!;
    const { row, apply } = await withTransaction(this.o.db, async (tx) => {
      await this.o.leadership.fence(tx);
      const updated = await updateRollout(tx, a.row.id, 'Progressing', {
        stepIndex,
        canaryWeight: weight,
        reason,
        analysis: analysis ? toJson(analysis) : a.row.analysis,
      });
      if (!updated) throw new VigilError('VIGIL_ERR_CONFLICT', `rollout ${a.row.id} changed meanwhile`);
      const apply = await this.o.state.write(tx, d, this.splitFor(d, updated, weight));
      await recordAudit(tx, {
        actor: CONTROLLER,
        action: 'rollout.step',
        target: `deployment/${d.name}`,
        before: { step: a.row.stepIndex, canary_weight: a.row.canaryWeight },
        after: { rollout: a.row.id, step: stepIndex, canary_weight: weight, reason, epoch: this.o.leadership.epoch },
      });
      return { row: updated, apply };
    });
    apply();
    a.row = row;
    this.restartStep(a);
    // Each step is judged on probe runs of its own: one now, rather than at the probe's next tick.
    if (this.o.probes?.has(d.name, row.canaryVersion)) void this.o.probes.runAll(d.name, row.canaryVersion);
    this.o.log.info(
      {
        rollout: row.id,
        deployment: d.name,
        step: `${stepIndex + 1}/${row.steps.length}`,
        canary_weight: weight,
        reason,
      },
      'rollout step',
    );
  }

  /** Ends a rollout: Promoted makes the canary stable; RolledBack and Aborted send all traffic back. */
  private async finish(
    d: Deployment,
    a: ActiveRollout,
    status: 'Promoted' | 'RolledBack' | 'Aborted',
    reason: string,
    actor: string,
    analysis?: CanaryAnalysis,
  ): Promise<Rollout> {
    const { canaryVersion: canary, stableVersion: stable } = a.row;
    const promoted = status === 'Promoted';
    const change: StateChange = promoted
      ? {
          split: [
            { version: canary, weight: 100 },
            { version: stable, weight: 0 },
          ],
          retire: [stable],
          activate: [canary],
        }
      : {
          split: [
            { version: stable, weight: 100 },
            { version: canary, weight: 0 },
          ],
          retire: [canary],
          activate: [stable],
        };
    if (d.mirror?.version === canary && a.settings.minAgreement !== null) change.mirror = null;
    const before = { status: a.row.status, step: a.row.stepIndex, canary_weight: a.row.canaryWeight };
    const byController = actor === CONTROLLER;
    const { row, apply } = await withTransaction(this.o.db, async (tx) => {
      // The controller's decisions are the leader's and fenced; a person's abort or promote is not.
      if (byController) await this.o.leadership.fence(tx);
      const updated = await updateRollout(tx, a.row.id, a.row.status, {
        status,
        reason,
        canaryWeight: promoted ? 100 : 0,
        analysis: analysis ? toJson(analysis) : a.row.analysis,
      });
      if (!updated) throw new VigilError('VIGIL_ERR_CONFLICT', `rollout ${a.row.id} changed meanwhile`);
      const apply = await this.o.state.write(tx, d, change);
      const action = promoted ? 'rollout.promote' : status === 'RolledBack' ? 'rollout.rollback' : 'rollout.abort';
      await recordAudit(tx, {
        actor,
        action,
        target: `deployment/${d.name}`,
        before,
        after: {
          rollout: a.row.id,
          status,
          reason,
          stable: promoted ? canary : stable,
          retired: promoted ? stable : canary,
          ...(byController ? { epoch: this.o.leadership.epoch } : {}),
        },
      });
      if (status === 'RolledBack') {
        const alert = this.rollbackAlert(updated);
        // Stored as an alert too, so the console's on-call page shows it with its runbook.
        await upsertAlertState(
          tx,
          {
            fingerprint: alert.fingerprint!,
            source: 'vigil',
            name: alert.labels.alertname!,
            severity: 'page',
            labels: alert.labels,
            annotations: alert.annotations,
            state: 'firing',
            startsAt: new Date(alert.startsAt),
            endsAt: new Date(alert.endsAt!),
          },
          { details: { rollout: updated.id } },
        );
        for (const w of this.rollbackWebhooks(alert)) await enqueueWebhook(tx, w);
      }
      return { row: updated, apply };
    });
    apply();
    this.active.delete(d.name);
    const log = status === 'RolledBack' ? this.o.log.warn.bind(this.o.log) : this.o.log.info.bind(this.o.log);
    log({ rollout: row.id, deployment: d.name, canary, stable, status, reason }, `rollout ${status}`);
    this.o.onFinished?.(d.name, status);
    this.o.afterChange?.();
    return row;
  }

  /** The alert a rollback raises: names the canary, the reason and the runbook. */
  private rollbackAlert(row: Rollout): WebhookAlert {
    const base = this.o.externalUrl.replace(/\/$/, '');
    const labels = {
      alertname: 'VigilCanaryRolledBack',
      severity: 'page',
      deployment: row.deployment,
      version: row.canaryVersion,
      rollout_id: String(row.id),
    };
    const startsAt = new Date(this.now());
    const alert: WebhookAlert = {
      status: 'firing',
      labels,
      annotations: {
        summary: `Canary ${row.canaryVersion} of ${row.deployment} was rolled back automatically; ${row.stableVersion} serves all traffic`,
        description: row.reason ?? '',
        runbook: CANARY_RUNBOOK,
        runbook_url: `${base}/runbooks/${CANARY_RUNBOOK}`,
      },
      startsAt: startsAt.toISOString(),
      // A rollback is an event, not a condition that later clears: it resolves itself after an hour.
      endsAt: new Date(startsAt.getTime() + 3600_000).toISOString(),
      generatorURL: `${base}/api/v1/rollouts/${row.id}`,
      fingerprint: fingerprint(labels),
    };
    return alert;
  }

  /** One Alertmanager-format alert per receiver; deduped per rollout. */
  private rollbackWebhooks(alert: WebhookAlert) {
    const base = this.o.externalUrl.replace(/\/$/, '');
    return this.o.receivers.map((r) => ({
      receiver: r.name,
      url: r.url,
      payload: buildWebhookPayload(r.name, base, [alert], ['alertname', 'deployment']),
      dedupeKey: `${r.name}:rollout:${alert.labels.rollout_id}:rolled-back`,
    }));
  }

  /** The split while a rollout runs: the canary first (so routing keys keep their version as it grows), then the stable. */
  private splitFor(d: Deployment, row: Rollout, canaryWeight: number): StateChange {
    const others = [...d.pools.keys()].filter((v) => v !== row.canaryVersion && v !== row.stableVersion);
    return {
      split: [
        { version: row.canaryVersion, weight: canaryWeight },
        { version: row.stableVersion, weight: 100 - canaryWeight },
        ...others.map((version) => ({ version, weight: 0 })),
      ],
    };
  }

  private track(d: Deployment, row: Rollout): void {
    const a: ActiveRollout = {
      row,
      settings: row.settings as unknown as RolloutSettings,
      stepStartedAt: this.now(),
      mirrorBaseline: this.mirrorOf(d, row.canaryVersion),
      lastAnalysis: undefined,
      lastDecision: undefined,
      unreadySince: undefined,
    };
    this.adopt(a, row);
    this.active.set(d.name, a);
  }

  /** Takes a stored row as this node's view, with the leader's last analysis and decision in it. */
  private adopt(a: ActiveRollout, row: Rollout): void {
    a.row = row;
    const stored = row.analysis as (CanaryAnalysis & { decision?: RolloutDecision }) | null;
    if (stored && 'verdict' in stored) {
      const { decision, ...analysis } = stored;
      a.lastAnalysis = analysis;
      a.lastDecision = decision;
    }
  }

  /**
   * The leader stores each round's analysis and decision in the rollout row (fenced, and
   * notified), so that every node shows the same live numbers the leader acts on.
   */
  private async storeAnalysis(a: ActiveRollout, analysis: CanaryAnalysis, decision: RolloutDecision): Promise<void> {
    const updated = await withTransaction(this.o.db, async (tx: Tx) => {
      await this.o.leadership.fence(tx);
      return updateRollout(tx, a.row.id, a.row.status, { analysis: toJson({ ...analysis, decision }) });
    });
    if (updated) a.row = updated;
  }

  private mirrorOf(d: Deployment, version: string): MirrorTotals {
    return this.o.mirrorTotals ? this.o.mirrorTotals(d, version) : d.mirrorStats.get(version);
  }

  /**
   * Output agreement is counted over the whole rollout, not per step: it is a property of the
   * model, not of the load, and at the 100% step the stable version has no traffic left to mirror.
   */
  private restartStep(a: ActiveRollout): void {
    a.stepStartedAt = this.now();
    a.lastAnalysis = undefined;
  }

  private serialised<T>(deployment: string, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(deployment) ?? Promise.resolve();
    const next = prev.then(work, work);
    this.queues.set(
      deployment,
      next.catch(() => undefined),
    );
    return next;
  }
}

function toJson(analysis: CanaryAnalysis | (CanaryAnalysis & { decision: RolloutDecision })): Record<string, unknown> {
  return JSON.parse(JSON.stringify(analysis)) as Record<string, unknown>;
}
