/**
 * The autoscaling policy, after Ray Serve's queue-length policy: size a deployment version so
 * that each replica holds about `targetOngoingRequests`, but only act on a wish that has lasted
 * for the upscale (or downscale) delay, so that a short burst or lull does not churn replicas.
 * Two exceptions act at once: a request waiting on a version scaled to zero (it would otherwise
 * wait out its deadline for the delay), and a target outside [min, max] (the operator changed
 * the bounds). Every increase is limited by the node's memory budget.
 *
 * Pure, with an injected clock: `(settings, ctx, state, now) -> { decision, state }`.
 */

export interface AutoscalingSettings {
  minReplicas: number;
  maxReplicas: number;
  initialReplicas: number;
  targetOngoingRequests: number;
  upscaleDelayS: number;
  downscaleDelayS: number;
  lookBackPeriodS: number;
}

/** Requests queued in the router plus those held by replicas, for one deployment version, at `at`. */
export interface OngoingSample {
  at: number;
  ongoing: number;
}

export interface MemoryView {
  budgetBytes: number;
  /** RSS of every live replica on this node, all deployments. */
  usedBytes: number;
  /** Largest measured RSS of one replica of this version; undefined before any replica ran. */
  perReplicaBytes: number | undefined;
}

/** What held a version below the replicas its load asked for. */
export type CapReason = 'memory_budget' | 'thermal' | 'pressure';

export interface AutoscaleContext {
  samples: readonly OngoingSample[];
  /** Replicas STARTING or RUNNING. */
  liveReplicas: number;
  queued: number;
  memory: MemoryView;
  /** The node is hot or under pressure (serving/host/heat-policy.ts): scale-ups are held. */
  heat?: { cappedBy: 'thermal' | 'pressure'; detail: string } | null;
}

export interface ScaleProposal {
  direction: 'up' | 'down';
  desired: number;
  /** When the wish first pointed this way; the delay counts from here. */
  since: number;
}

export interface AutoscaleState {
  target: number;
  proposal: ScaleProposal | null;
}

export interface AutoscaleDecision {
  target: number;
  previousTarget: number;
  desired: number;
  changed: boolean;
  reason: string;
  cappedBy: CapReason | null;
  capDetail: string | null;
}

export interface AutoscaleStep {
  decision: AutoscaleDecision;
  state: AutoscaleState;
}

/** The state before the first decision: the configured initial replica count, no pending wish. */
export function initialAutoscaleState(s: AutoscalingSettings): AutoscaleState {
  return { target: s.initialReplicas, proposal: null };
}

/** Mean of the samples taken in [now - lookBack, now]; 0 when the window holds none. */
export function averageOngoing(samples: readonly OngoingSample[], lookBackPeriodS: number, now: number): number {
  const from = now - lookBackPeriodS * 1000;
  let sum = 0;
  let count = 0;
  for (const s of samples) {
    if (s.at < from || s.at > now) continue;
    sum += s.ongoing;
    count++;
  }
  return count === 0 ? 0 : sum / count;
}

/** The replica count the load asks for, within [min, max], before delays and memory. */
export function desiredReplicas(settings: AutoscalingSettings, avgOngoing: number): number {
  // An idle version wants no replicas whatever the per-replica target (also avoids 0 / 0).
  const raw = avgOngoing <= 0 ? 0 : Math.ceil(avgOngoing / settings.targetOngoingRequests);
  return Math.min(settings.maxReplicas, Math.max(settings.minReplicas, raw));
}

export interface MemoryCap {
  target: number;
  cappedBy: CapReason | null;
  capDetail: string | null;
}

/**
 * Limits a move from `currentTarget` up to `wanted` to the replicas that fit in the memory budget.
 * Never goes below `currentTarget`: running out of memory stops growth, it does not shed replicas.
 */
export function capByMemory(
  wanted: number,
  currentTarget: number,
  liveReplicas: number,
  memory: MemoryView,
): MemoryCap {
  if (wanted <= currentTarget) return { target: wanted, cappedBy: null, capDetail: null };
  // A measured size of 0 cannot be real (a process has some RSS); treat it as not measured.
  const perReplica =
    memory.perReplicaBytes !== undefined && memory.perReplicaBytes > 0 ? memory.perReplicaBytes : undefined;
  // Without a measurement, start one replica, measure it, then decide on the rest.
  const allowedExtra =
    perReplica === undefined ? 1 : Math.max(0, Math.floor((memory.budgetBytes - memory.usedBytes) / perReplica));
  const target = Math.min(wanted, Math.max(currentTarget, liveReplicas + allowedExtra));
  if (target >= wanted) return { target, cappedBy: null, capDetail: null };
  const budget = `${mib(memory.usedBytes)} of ${mib(memory.budgetBytes)} MiB budget in use`;
  const capDetail =
    perReplica === undefined
      ? `per-replica memory not measured yet; ${budget}; starting 1 more to measure it`
      : `each replica uses ~${mib(perReplica)} MiB; ${budget}; ${allowedExtra} more ${allowedExtra === 1 ? 'fits' : 'fit'}`;
  return { target, cappedBy: 'memory_budget', capDetail };
}

/** One control-loop tick: what the target replica count should be now, and why. */
export function decideScale(
  settings: AutoscalingSettings,
  ctx: AutoscaleContext,
  state: AutoscaleState,
  now: number,
): AutoscaleStep {
  const avg = averageOngoing(ctx.samples, settings.lookBackPeriodS, now);
  const desired = desiredReplicas(settings, avg);
  const previousTarget = state.target;
  const load =
    `avg ${avg.toFixed(1)} ongoing over ${settings.lookBackPeriodS} s / ` +
    `target ${settings.targetOngoingRequests} per replica → ${replicas(desired)}`;

  const step = (target: number, proposal: ScaleProposal | null, reason: string, cap?: MemoryCap): AutoscaleStep => ({
    decision: {
      target,
      previousTarget,
      desired,
      changed: target !== previousTarget,
      reason,
      cappedBy: cap?.cappedBy ?? null,
      capDetail: cap?.capDetail ?? null,
    },
    state: { target, proposal },
  });
  const withCap = (reason: string, cap: MemoryCap) =>
    cap.cappedBy === null
      ? reason
      : `${reason}; capped at ${cap.target} by ${CAP_NAMES[cap.cappedBy]}: ${cap.capDetail}`;

  // A request is waiting for a cold start within its deadline: waiting out the upscale delay
  // would fail it, so start the first replica(s) now.
  if (previousTarget === 0 && (ctx.queued > 0 || avg > 0)) {
    const wanted = Math.min(settings.maxReplicas, Math.max(1, settings.minReplicas));
    const cap = capByMemory(wanted, previousTarget, ctx.liveReplicas, ctx.memory);
    const reason = `scale from zero: ${ctx.queued} queued, ${load}; starting ${replicas(wanted)} without upscale delay`;
    return step(cap.target, null, withCap(reason, cap), cap);
  }

  // Bounds changed under a running deployment: honour them now, not after a delay.
  if (previousTarget > settings.maxReplicas) {
    return step(
      settings.maxReplicas,
      null,
      `target ${previousTarget} above max_replicas ${settings.maxReplicas}: down to ${settings.maxReplicas} at once (${load})`,
    );
  }
  if (previousTarget < settings.minReplicas) {
    const cap = capByMemory(settings.minReplicas, previousTarget, ctx.liveReplicas, ctx.memory);
    const reason = `target ${previousTarget} below min_replicas ${settings.minReplicas}: up to ${settings.minReplicas} at once (${load})`;
    return step(cap.target, null, withCap(reason, cap), cap);
  }

  if (desired === previousTarget) return step(previousTarget, null, `steady at ${previousTarget}: ${load}`);

  const direction = desired > previousTarget ? 'up' : 'down';
  // The delay counts from when the wish first pointed this way; a flip of direction restarts it,
  // a change of size in the same direction does not.
  const since = state.proposal?.direction === direction ? state.proposal.since : now;
  const proposal: ScaleProposal = { direction, desired, since };
  const delayS = direction === 'up' ? settings.upscaleDelayS : settings.downscaleDelayS;
  const remainingMs = delayS * 1000 - (now - since);
  if (remainingMs > 0) {
    return step(
      previousTarget,
      proposal,
      `holding at ${previousTarget}: scale-${direction} to ${desired} waits ${Math.ceil(remainingMs / 1000)} s more (${load})`,
    );
  }

  const applied = `${load} (was ${previousTarget}, ${direction} after ${delayS} s delay)`;
  if (direction === 'down') return step(desired, null, applied);

  // A hot or pressured node holds scale-ups: more replicas would only slow every one of them.
  const cap: MemoryCap = ctx.heat
    ? { target: previousTarget, cappedBy: ctx.heat.cappedBy, capDetail: ctx.heat.detail }
    : capByMemory(desired, previousTarget, ctx.liveReplicas, ctx.memory);
  // When a cap cuts the step short, keep the proposal (and its start time): the delay has been
  // served, so growth resumes on the first tick that finds room.
  if (cap.cappedBy !== null && cap.target === previousTarget) {
    return step(
      previousTarget,
      proposal,
      `holding at ${previousTarget}: scale-up to ${desired} blocked by ${CAP_NAMES[cap.cappedBy]}: ${cap.capDetail} (${load})`,
      cap,
    );
  }
  return step(cap.target, cap.cappedBy === null ? null : proposal, withCap(applied, cap), cap);
}

const CAP_NAMES: Record<CapReason, string> = {
  memory_budget: 'memory budget',
  thermal: 'heat',
  pressure: 'CPU or memory pressure',
};

function replicas(n: number): string {
  return `${n} ${n === 1 ? 'replica' : 'replicas'}`;
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
