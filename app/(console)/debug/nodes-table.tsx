import type { ClusterStatus } from '../../lib/api-types';
import { formatDuration, formatTime } from '../../lib/format';

/** The vigil nodes on this database: health by heartbeat, who leads, and what each runs. */
export function NodesTable({ cluster, timeZone }: { cluster: ClusterStatus; timeZone: string }) {
  const healthy = cluster.nodes.filter((n) => n.healthy).length;
  return (
    <>
      <p className="muted" data-testid="cluster-summary">
        {cluster.mode === 'embedded'
          ? 'Embedded database: this is the only node.'
          : `${healthy} of ${cluster.nodes.length} nodes healthy on a shared Postgres.`}{' '}
        Leader: {cluster.leader?.instance ?? 'none'} (epoch {cluster.leader?.epoch ?? 0}). This page is served by{' '}
        <strong>{cluster.node.name}</strong>
        {cluster.node.in_sync ? '' : ', which has lost its subscription to state changes and is catching up'}.
      </p>
      {cluster.nodes.length === 0 ? (
        <p className="empty">No node has reported a heartbeat yet.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Health</th>
                <th scope="col">Role</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Ready</th>
                <th scope="col">Replicas running / target</th>
                <th scope="col">Ongoing / queued</th>
                <th scope="col">Up</th>
                <th scope="col">Started</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {cluster.nodes.map((n) => {
                const versions = n.report?.deployments.flatMap((d) => d.versions) ?? [];
                const sum = (f: (v: (typeof versions)[number]) => number) => versions.reduce((t, v) => t + f(v), 0);
                return (
                  <tr key={n.instance} data-testid={`node-${n.name}`}>
                    <th scope="row" className="nowrap" title={n.instance}>
                      {n.name}
                    </th>
                    <td>
                      <span className={`state state-${n.healthy ? 'running' : 'stopped'}`}>
                        {n.stopped ? 'stopped' : n.healthy ? 'healthy' : 'not heard from'}
                      </span>
                    </td>
                    <td>{n.leader ? 'leader' : 'follower'}</td>
                    <td>{n.heartbeat_age_seconds.toFixed(1)} s ago</td>
                    <td>
                      {n.report ? (n.report.draining ? 'draining' : n.report.ready ? 'yes' : 'no') : 'not reported'}
                    </td>
                    <td>
                      {sum((v) => v.running)} / {sum((v) => v.target)}
                    </td>
                    <td>
                      {sum((v) => v.ongoing)} / {sum((v) => v.queued)}
                    </td>
                    <td>{n.report ? formatDuration(n.report.uptime_seconds) : 'not reported'}</td>
                    <td className="nowrap">{formatTime(n.started_at, timeZone)}</td>
                    <td className="nowrap">{n.url}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
