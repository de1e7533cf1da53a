import { ActionButton } from '../../components/action-button';
import type { ActiveRollout } from '../../lib/api-types';
import { formatDuration, formatMs, formatPercent, trimNumber } from '../../lib/format';

interface Side {
  requests?: number;
  errors?: number;
  errorRatio?: number;
  p95Ms?: number | null;
  p99Ms?: number | null;
}

interface Check {
  name?: string;
  outcome?: string;
  value?: number | null;
  threshold?: number | null;
  detail?: string;
}

function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The analysis is loosely typed in the contract; read the fields rollouts.md documents, if present. */
function AnalysisNumbers({ analysis }: { analysis: Record<string, unknown> }) {
  const sides = (['canary', 'stable'] as const)
    .map((k) => [k, asObject(analysis[k]) as Side | null] as const)
    .filter(([, v]) => v !== null);
  const checks = Array.isArray(analysis.checks) ? (analysis.checks as Check[]) : [];
  return (
    <>
      {typeof analysis.summary === 'string' && <p>{analysis.summary}</p>}
      {sides.length > 0 && (
        <table className="compact">
          <caption>Last analysis{typeof analysis.verdict === 'string' ? `: ${analysis.verdict}` : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Requests</th>
              <th scope="col">Errors</th>
              <th scope="col">Error ratio</th>
              <th scope="col">p95</th>
            </tr>
          </thead>
          <tbody>
            {sides.map(([k, s]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{s!.requests ?? 'no data'}</td>
                <td>{s!.errors ?? 'no data'}</td>
                <td>{typeof s!.errorRatio === 'number' ? formatPercent(s!.errorRatio) : 'no data'}</td>
                <td>{formatMs(typeof s!.p95Ms === 'number' ? s!.p95Ms : null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {checks.length > 0 && (
        <ul className="checks">
          {checks.map((c, i) => (
            <li key={c.name ?? i} className={c.outcome === 'fail' ? 'hot' : undefined}>
              <strong>{c.name}</strong>: {c.outcome}
              {typeof c.value === 'number'
                ? ` (${trimNumber(c.value)}${typeof c.threshold === 'number' ? ` against ${trimNumber(c.threshold)}` : ''})`
                : ''}
              {c.detail ? <div className="muted">{c.detail}</div> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The active rollout of a deployment: where it is, what it last decided and why, and its controls. */
export function RolloutPanel({
  deployment,
  rollout: r,
  canOperate,
}: {
  deployment: string;
  rollout: ActiveRollout;
  canOperate: boolean;
}) {
  const decision = asObject(r.decision);
  const verdict = decision ? String(decision.verdict ?? decision.kind ?? '') : null;
  return (
    <div className="rollout" data-testid={`rollout-${deployment}`}>
      <h3>
        Rollout #{r.id}: {r.canary} against {r.stable}{' '}
        <span className={`badge badge-${r.status.toLowerCase()}`}>{r.status}</span>
      </h3>
      <dl className="inline-dl">
        <dt>Step</dt>
        <dd>
          {Math.min(r.step + 1, r.steps.length)}/{r.steps.length} (steps {r.steps.join(', ')}%)
        </dd>
        <dt>Canary weight</dt>
        <dd>{r.canary_weight}%</dd>
        <dt>Step time</dt>
        <dd>
          {formatDuration(r.step_elapsed_seconds)} of at least {formatDuration(r.interval_seconds)}
        </dd>
        <dt>Last decision</dt>
        <dd>{decision ? `${verdict}: ${String(decision.reason ?? '')}` : 'none yet'}</dd>
      </dl>
      <progress max={r.steps.length} value={Math.min(r.step + 1, r.steps.length)} aria-label="Rollout progress" />
      {r.analysis ? <AnalysisNumbers analysis={r.analysis} /> : <p className="muted">No analysis of this step yet.</p>}
      {canOperate && (
        <div className="actions">
          {r.status === 'Progressing' && (
            <ActionButton
              label="Pause"
              operation="actOnRollout"
              input={{ params: { name: deployment, action: 'pause' } }}
              confirm={`Pause rollout #${r.id} of ${deployment}: weights stay as they are and the canary is not analysed (nor rolled back) while paused.`}
            />
          )}
          {r.status === 'Paused' && (
            <ActionButton
              label="Resume"
              operation="actOnRollout"
              input={{ params: { name: deployment, action: 'resume' } }}
              confirm={`Resume rollout #${r.id} of ${deployment}; the current step's interval starts over.`}
            />
          )}
          <ActionButton
            label="Promote"
            operation="actOnRollout"
            input={{ params: { name: deployment, action: 'promote' } }}
            confirm={`Promote ${r.canary} now: it gets 100% of ${deployment}'s traffic and ${r.stable} is retired.`}
          />
          <ActionButton
            label="Roll back"
            operation="actOnRollout"
            input={{ params: { name: deployment, action: 'abort' } }}
            danger
            confirm={`Roll back: ${r.stable} gets 100% of ${deployment}'s traffic and ${r.canary} is retired (rollout aborted).`}
          />
        </div>
      )}
    </div>
  );
}
