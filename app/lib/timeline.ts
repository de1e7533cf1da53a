import type { AuditEntry, Rollout } from './api-types';
import { compactJson } from './format';

/** One line of the deployment and rollout timeline. */
export interface TimelineEvent {
  key: string;
  at: string;
  source: 'audit' | 'rollout';
  actor: string;
  what: string;
  target: string;
  detail: string;
}

/**
 * Whether an audit row is a change to a deployment (traffic, scale, rollout steps, restarts,
 * autoscaling): those all target `deployment/...`. Logins, alerts and runbook edits are not.
 */
export function isDeploymentChange(e: AuditEntry): boolean {
  return e.target.startsWith('deployment/');
}

/**
 * Audit rows and rollouts on one time line, newest first. A rollout gives its start and, once it
 * moved on, its latest state with the reason (a rollback's numbers, who paused it).
 */
export function mergeTimeline(audit: AuditEntry[], rollouts: Rollout[], limit = 70): TimelineEvent[] {
  const events: TimelineEvent[] = audit.map((e) => ({
    key: `audit-${e.id}`,
    at: e.at,
    source: 'audit',
    actor: e.actor,
    what: e.action,
    target: e.target,
    detail: `${compactJson(e.before, 160)} → ${compactJson(e.after, 160)}`,
  }));
  for (const r of rollouts) {
    const target = `deployment/${r.deployment}`;
    events.push({
      key: `rollout-${r.id}-start`,
      at: r.createdAt,
      source: 'rollout',
      actor: r.startedBy,
      what: `rollout #${r.id} started`,
      target,
      detail: `canary ${r.canaryVersion} against ${r.stableVersion}, steps ${r.steps.join(', ')}% every ${r.intervalSeconds} s`,
    });
    if (r.updatedAt !== r.createdAt) {
      events.push({
        key: `rollout-${r.id}-now`,
        at: r.updatedAt,
        source: 'rollout',
        actor: '',
        what: `rollout #${r.id} ${r.status}`,
        target,
        detail: `step ${Math.min(r.stepIndex + 1, r.steps.length)}/${r.steps.length}, canary weight ${r.canaryWeight}%${r.reason ? `: ${r.reason}` : ''}`,
      });
    }
  }
  return events.sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, limit);
}
