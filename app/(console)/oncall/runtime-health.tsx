import type { ConsoleRuntime } from '../../lib/api-types';
import { formatCount } from '../../lib/format';

/** Requests refused before inference (shed, deadline, not ready...), since this node started. */
export function RejectedTable({ rejected }: { rejected: ConsoleRuntime['rejected'] }) {
  if (rejected.length === 0) return <p className="empty">No request has been rejected since the node started.</p>;
  return <ReasonCounts rows={rejected} countLabel="Requests" />;
}

/** Counts per deployment and reason (rejections, restarts): one table shape for both. */
function ReasonCounts({
  rows,
  countLabel,
}: {
  rows: Array<{ deployment: string; reason: string; count: number }>;
  countLabel: string;
}) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Deployment</th>
          <th scope="col">Reason</th>
          <th scope="col">{countLabel}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.deployment}/${r.reason}`}>
            <td>{r.deployment}</td>
            <td>{r.reason}</td>
            <td>{formatCount(r.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Replica restarts by reason, and the versions that are crash-looping or have restarted. */
export function RestartsTable({ runtime }: { runtime: ConsoleRuntime }) {
  const troubled = runtime.deployments.flatMap((d) =>
    d.versions.filter((v) => v.crash_loop || v.restarts > 0).map((v) => ({ deployment: d.name, ...v })),
  );
  return (
    <>
      {runtime.restarts.length === 0 ? (
        <p className="empty">No replica has been restarted since the node started.</p>
      ) : (
        <ReasonCounts rows={runtime.restarts} countLabel="Restarts" />
      )}
      {troubled.length > 0 && (
        <table>
          <caption>Versions with restarts</caption>
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Version</th>
              <th scope="col">Restarts</th>
              <th scope="col">Crash loop</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {troubled.map((v) => (
              <tr key={`${v.deployment}/${v.version}`} className={v.crash_loop ? 'hot' : undefined}>
                <td>{v.deployment}</td>
                <td>{v.version}</td>
                <td>{formatCount(v.restarts)}</td>
                <td>{v.crash_loop ? 'yes: backing off' : 'no'}</td>
                <td>{v.last_error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
