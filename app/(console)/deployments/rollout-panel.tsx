import { ActionButton } from '../../components/action-button';
import type { ActiveRollout, CanaryAnalysis } from '../../lib/api-types';
import { formatDuration, formatMs, formatPercent, trimNumber } from '../../lib/format';

const CHECK_NAMES: Record<CanaryAnalysis['checks'][number]['name'], string> = {
  error_burn_rate: 'Error rate',
  latency: 'Latency',
  output_agreement: 'Agreement with stable',
  probes: 'Probes (known answers)',
  prediction_drift: 'Prediction drift against stable',
};

/** The last analysis: both versions' numbers, then each check beside the others. */
function AnalysisNumbers({ analysis }: { analysis: CanaryAnalysis }) {
  const sides = [
    ['canary', analysis.canary],
    ['stable', analysis.stable],
  ] as const;
  return (
    <>
      <p>{analysis.summary}</p>
      <table className="compact">
        <caption>Last analysis: {analysis.verdict}</caption>
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
              <td>{s.requests}</td>
              <td>{s.errors}</td>
              <td>{s.errorRatio === null ? 'no data' : formatPercent(s.errorRatio)}</td>
              <td>{formatMs(s.p95Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="compact" data-testid="analysis-checks">
        <caption>Checks</caption>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Outcome</th>
            <th scope="col">Value</th>
            <th scope="col">Threshold</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {analysis.checks.map((c) => (
            <tr key={c.name} className={c.outcome === 'fail' ? 'hot' : undefined}>
              <th scope="row">{CHECK_NAMES[c.name]}</th>
              <td>{c.outcome}</td>
              <td>{c.value === null ? '' : trimNumber(c.value)}</td>
              <td>{c.threshold === null ? '' : trimNumber(c.threshold)}</td>
              <td>{c.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
  const decision = r.decision;
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
        <dd>{decision ? `${decision.kind}: ${decision.reason}` : 'none yet'}</dd>
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
