import type { ConsoleRuntime } from '../../lib/api-types';
import { formatMiB, formatMs, formatSeconds, formatTime, NO_DATA } from '../../lib/format';

/** Every replica of every version, with what its process reports. */
export function ReplicaTable({ runtime, timeZone }: { runtime: ConsoleRuntime; timeZone: string }) {
  const rows = runtime.deployments.flatMap((d) =>
    d.versions.flatMap((v) => v.replicas.map((r) => ({ deployment: d.name, version: v.version, r }))),
  );
  if (rows.length === 0) return <p className="empty">No replicas (every version is scaled to zero or retired).</p>;
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Version</th>
            <th scope="col">Replica</th>
            <th scope="col">State</th>
            <th scope="col">PID</th>
            <th scope="col">Provider</th>
            <th scope="col">Memory (RSS)</th>
            <th scope="col">Heap used</th>
            <th scope="col">CPU time</th>
            <th scope="col">Event-loop lag</th>
            <th scope="col">Ongoing</th>
            <th scope="col">Sent / succeeded</th>
            <th scope="col">Load time</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ deployment, version, r }) => (
            <tr key={r.id} data-testid={`replica-${r.id}`}>
              <td>{deployment}</td>
              <td>{version}</td>
              <th scope="row" className="nowrap">
                {r.id}
              </th>
              <td>
                <span className={`state state-${r.state.toLowerCase()}`}>{r.state}</span>
              </td>
              <td>{r.pid ?? NO_DATA}</td>
              <td>{r.provider}</td>
              <td>{formatMiB(r.rss_bytes)}</td>
              <td>{formatMiB(r.heap_used_bytes)}</td>
              <td>{formatSeconds(r.cpu_seconds)}</td>
              <td>{formatMs(r.event_loop_lag_ms)}</td>
              <td>{r.ongoing}</td>
              <td>
                {r.sent} / {r.succeeded}
              </td>
              <td>{formatSeconds(r.load_seconds)}</td>
              <td>{formatTime(r.started_at, timeZone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Per version: traffic weight, replicas wanted and running, and requests waiting in its queue. */
export function QueueTable({ runtime }: { runtime: ConsoleRuntime }) {
  const rows = runtime.deployments.flatMap((d) => d.versions.map((v) => ({ deployment: d.name, ...v })));
  if (rows.length === 0) return <p className="empty">No deployments.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Deployment</th>
          <th scope="col">Version</th>
          <th scope="col">State</th>
          <th scope="col">Weight</th>
          <th scope="col">Replicas (running / target)</th>
          <th scope="col">Queued requests</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((v) => (
          <tr key={`${v.deployment}/${v.version}`}>
            <td>{v.deployment}</td>
            <td>{v.version}</td>
            <td>{v.state}</td>
            <td>{v.weight}</td>
            <td>
              {v.replicas.filter((r) => r.state === 'RUNNING').length} / {v.target_replicas}
            </td>
            <td data-testid={`queued-${v.deployment}-${v.version}`}>{v.queued}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
