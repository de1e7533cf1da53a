import type { SloStatus } from '../../lib/api-types';
import { formatDuration, formatMs, formatPercent } from '../../lib/format';

function objective(s: SloStatus): string {
  const target = formatPercent(s.objective, 2);
  return s.kind === 'latency' ? `${target} under ${formatMs(s.latency_threshold_ms)}` : `${target} available`;
}

function budget(s: SloStatus): string {
  if (s.error_budget_remaining === null) return 'no data';
  const left = formatPercent(s.error_budget_remaining, 1);
  return s.error_budget_remaining < 0 ? `${left} (exhausted)` : left;
}

function budgetClass(left: number | null): string | undefined {
  if (left === null) return undefined;
  return left <= 0 ? 'hot' : left < 0.25 ? 'warn' : undefined;
}

function exhaustion(s: SloStatus): string {
  if (s.error_budget_remaining !== null && s.error_budget_remaining <= 0) return 'exhausted';
  return s.seconds_to_exhaustion === null ? 'not burning' : formatDuration(s.seconds_to_exhaustion);
}

/** Each SLO's error budget left over its window, and when it runs out at the current burn. */
export function SloBudgets({ slos }: { slos: SloStatus[] }) {
  if (slos.length === 0)
    return <p className="empty">No SLOs are defined (declare them under a deployment in vigil.yaml).</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">SLO</th>
          <th scope="col">Objective</th>
          <th scope="col">Window</th>
          <th scope="col">SLI</th>
          <th scope="col">Error budget remaining</th>
          <th scope="col">Time to exhaustion</th>
          <th scope="col">Alerts (page / ticket)</th>
        </tr>
      </thead>
      <tbody>
        {slos.map((s) => (
          <tr key={s.id} data-testid={`slo-${s.id}`}>
            <th scope="row">
              {s.deployment}
              {s.version ? ` ${s.version}` : ''} · {s.kind}
              {s.deployment_served ? null : <span className="muted"> (removed: not in this node's config)</span>}
              {s.description ? <div className="muted">{s.description}</div> : null}
            </th>
            <td>{objective(s)}</td>
            <td>{s.window}</td>
            <td>{formatPercent(s.sli, 3)}</td>
            <td className={budgetClass(s.error_budget_remaining)}>{budget(s)}</td>
            <td>{exhaustion(s)}</td>
            <td>
              <span className={`state state-${s.alerts.page}`}>{s.alerts.page}</span> /{' '}
              <span className={`state state-${s.alerts.ticket}`}>{s.alerts.ticket}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
