import type { DeploymentProbes } from '../../lib/api-types';
import { formatMs, formatTime } from '../../lib/format';

/**
 * A deployment's probes (synthetic requests with known answers): the latest run of each on each
 * version, with what it found. A wrong answer is "fail", no answer "error".
 */
export function ProbesPanel({ probes, timeZone }: { probes: DeploymentProbes; timeZone: string }) {
  if (probes.probes.length === 0) return null;
  const expectation = (name: string) => {
    const e = probes.probes.find((p) => p.name === name)?.expect;
    if (!e) return '';
    if ('top1' in e) return `top-1 class ${e.top1}`;
    if ('allclose' in e) return `${e.allclose.length} values within atol ${e.atol}, rtol ${e.rtol}`;
    if ('check' in e) return `the check in ${e.check.split('/').pop()}`;
    return `${e.json} = ${JSON.stringify(e.equals)}`;
  };
  return (
    <div className="table-scroll" data-testid={`probes-${probes.deployment}`}>
      <table className="compact">
        <caption>Probes: known answers, every {probes.probes[0]!.interval} on each live version</caption>
        <thead>
          <tr>
            <th scope="col">Probe</th>
            <th scope="col">Version</th>
            <th scope="col">Expects</th>
            <th scope="col">Result</th>
            <th scope="col">Found</th>
            <th scope="col">Took</th>
            <th scope="col">At</th>
          </tr>
        </thead>
        <tbody>
          {probes.results.length === 0 ? (
            <tr>
              <td colSpan={7} className="muted">
                No run yet: probes start once a replica runs.
              </td>
            </tr>
          ) : (
            probes.results.map((r) => (
              <tr key={`${r.probe}/${r.version}`} className={r.result === 'pass' ? undefined : 'hot'}>
                <th scope="row">{r.probe}</th>
                <td>{r.version}</td>
                <td>{expectation(r.probe)}</td>
                <td>{r.result}</td>
                <td>{r.detail}</td>
                <td>{formatMs(r.duration_ms)}</td>
                <td>{formatTime(r.at, timeZone)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
