/** `vigil rollout ...` and `vigil weights set`: canary rollouts and traffic through the HTTP API. */
import type { CanaryAnalysis, Rollout } from '../contract/control/rollouts.ts';
import { rolloutActions } from '../contract/control/rollouts.ts';
import { callNode } from './node-client.ts';

function describeRow(r: Rollout): string {
  const plan = `${r.steps.join(',')}, every ${r.intervalSeconds}s`;
  // Once a rollout has ended, "canary" and "stable" name what they were; say what is now.
  const state =
    r.status === 'Promoted'
      ? `${r.canaryVersion} is now stable (it was the canary; ${r.stableVersion} retired; steps ${plan})`
      : r.status === 'RolledBack' || r.status === 'Aborted'
        ? `${r.stableVersion} stays stable (canary ${r.canaryVersion} retired at step ` +
          `${r.stepIndex + 1}/${r.steps.length} of ${plan})`
        : `canary ${r.canaryVersion} at ${r.canaryWeight}% (step ${r.stepIndex + 1}/${r.steps.length} of ${plan}), ` +
          `stable ${r.stableVersion}`;
  return `rollout ${r.id} of ${r.deployment}: ${r.status}, ${state}${r.reason ? `\n  ${r.reason}` : ''}`;
}

export async function rolloutStartCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  version: string,
  steps: number[] | undefined,
  interval: string | undefined,
): Promise<void> {
  const row = await callNode(url, token, 'startRollout', {
    params: { name: deployment },
    body: { version, ...(steps ? { steps } : {}), ...(interval ? { interval } : {}) },
  });
  console.log(describeRow(row));
  console.log(`follow it with: vigil rollout status ${deployment}`);
}

export async function rolloutStatusCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  json: boolean,
): Promise<void> {
  const doc = await callNode(url, token, 'getDeploymentRollout', { params: { name: deployment } });
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
    return;
  }
  if (!doc.latest) {
    console.log(`${deployment} has never had a rollout`);
    return;
  }
  console.log(describeRow(doc.latest));
  if (doc.active) {
    console.log(`  step time ${doc.active.step_elapsed_seconds}s of ${doc.active.interval_seconds}s`);
    console.log(
      `  last decision: ${doc.active.decision ? `${doc.active.decision.kind}: ${doc.active.decision.reason}` : 'none yet (the first analysis is due within seconds)'}`,
    );
    if (doc.active.analysis) console.log(checksTable(doc.active.analysis));
  }
}

/** The analysis' checks side by side, as the console shows them: error rate, latency, agreement, probes. */
function checksTable(analysis: CanaryAnalysis): string {
  const fmt = (v: number | null) => (v === null ? '-' : String(Math.round(v * 1e4) / 1e4));
  const rows = [
    ['CHECK', 'OUTCOME', 'VALUE', 'THRESHOLD', 'DETAIL'],
    ...analysis.checks.map((c) => [c.name, c.outcome, fmt(c.value), fmt(c.threshold), c.detail]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`);
  return [`  analysis: ${analysis.verdict}`, ...lines].join('\n');
}

export async function rolloutActionCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  action: string,
): Promise<void> {
  const known = rolloutActions.find((a) => a === action);
  if (!known) throw new Error(`unknown rollout action "${action}"; use ${rolloutActions.join(', ')}`);
  const row = await callNode(url, token, 'actOnRollout', { params: { name: deployment, action: known } });
  console.log(describeRow(row));
}

/** `vigil weights set cls v1=90 v2=10`: the order given is the split order. */
export async function weightsSetCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  pairs: string[],
): Promise<void> {
  const weights: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([^=]+)=(\d+)$/.exec(p);
    if (!m) throw new Error(`expected VERSION=WEIGHT, got ${JSON.stringify(p)}`);
    weights[m[1]!] = Number(m[2]);
  }
  const doc = await callNode(url, token, 'setWeights', { params: { name: deployment }, body: { weights } });
  console.log(`${deployment}: ${doc.split.map((e) => `${e.version}=${e.weight}`).join(' ')}`);
}
