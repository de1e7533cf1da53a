import type { DeploymentDrift } from '../../lib/api-types';
import { formatPercent } from '../../lib/format';

/**
 * Prediction drift of a deployment: each version's signals with their PSI, and the two
 * distributions side by side, bin by bin (the baseline's classes or deciles).
 */
export function DriftPanel({ drift }: { drift: DeploymentDrift }) {
  if (drift.findings.length === 0) return null;
  return (
    <details className="drift" data-testid={`drift-${drift.deployment}`}>
      <summary>
        Prediction drift over {drift.window} (PSI; {drift.threshold} and above is a significant shift):{' '}
        {drift.findings
          .map((f) => `${f.version} ${f.signal} ${f.psi === null ? 'gathering' : f.psi.toFixed(3)}`)
          .join(' · ')}
      </summary>
      {drift.findings.map((f) => (
        <table key={`${f.version}/${f.signal}`} className="compact">
          <caption className={f.psi !== null && f.psi >= drift.threshold ? 'hot' : undefined}>
            {f.version} · {f.signal}: PSI {f.psi === null ? 'not yet (too few values)' : f.psi.toFixed(3)}, against{' '}
            {f.baseline.kind === 'stable'
              ? `stable ${f.baseline.version}`
              : f.baseline.kind === 'pinned'
                ? `its window pinned at ${f.baseline.pinned_at}`
                : 'its previous window'}{' '}
            ({f.samples.recent} against {f.samples.baseline} values)
          </caption>
          <thead>
            <tr>
              <th scope="col">Bin</th>
              <th scope="col">Baseline</th>
              <th scope="col">Recent</th>
            </tr>
          </thead>
          <tbody>
            {f.bins.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td className="bar-cell">
                  <span className="bar muted-bar" style={{ width: `${Math.round(b.baseline * 100)}%` }} />
                  {formatPercent(b.baseline, 1)}
                </td>
                <td className="bar-cell">
                  <span className="bar" style={{ width: `${Math.round(b.recent * 100)}%` }} />
                  {formatPercent(b.recent, 1)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </details>
  );
}
