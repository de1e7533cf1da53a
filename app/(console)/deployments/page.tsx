import type { Metadata } from 'next';
import { ActionButton } from '../../components/action-button';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { ScaleForm } from '../../components/scale-form';
import { WeightForm } from '../../components/weight-form';
import type { DeploymentDrift, DeploymentProbes, DeploymentStatus } from '../../lib/api-types';
import { formatMiB } from '../../lib/format';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { canOperate, requireSession } from '../../lib/session';
import { apiGet } from '../../lib/vigil-api';
import { DriftPanel } from './drift-panel';
import { ProbesPanel } from './probes-panel';
import { RolloutPanel } from './rollout-panel';

export const metadata: Metadata = { title: 'Deployments · vigil console' };

function Deployment({
  d,
  operate,
  probes,
  drift,
  timeZone,
}: {
  d: DeploymentStatus;
  operate: boolean;
  probes: DeploymentProbes | null;
  drift: DeploymentDrift | null;
  timeZone: string;
}) {
  return (
    <section className="card" data-testid={`deployment-${d.name}`} aria-labelledby={`dep-${d.name}`}>
      <h2 id={`dep-${d.name}`}>{d.name}</h2>
      <p className="muted">
        Split: {d.split.map((s) => `${s.version} ${s.weight}`).join(' · ') || 'none'}
        {d.mirror ? ` · mirroring ${d.mirror.percent}% to ${d.mirror.version}` : ''}
      </p>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Weight</th>
              <th scope="col">State</th>
              <th scope="col">Target replicas</th>
              <th scope="col">Replicas</th>
              <th scope="col">Queued</th>
              <th scope="col">Provider</th>
              <th scope="col">Restarts</th>
              {operate && <th scope="col">Scale</th>}
            </tr>
          </thead>
          <tbody>
            {d.versions.map((v) => (
              <tr key={v.version} className={v.crashLoop ? 'hot' : undefined}>
                <th scope="row">
                  {v.version}
                  {v.model ? <div className="muted model-path">{v.model}</div> : null}
                </th>
                <td data-testid={`weight-${d.name}-${v.version}`}>{v.weight}</td>
                <td>{v.state}</td>
                <td data-testid={`replicas-${d.name}-${v.version}`}>{v.target_replicas}</td>
                <td>
                  {v.replicas.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ul className="replica-list">
                      {v.replicas.map((r) => (
                        <li key={r.id}>
                          <span className={`state state-${r.state.toLowerCase()}`}>{r.state}</span> {r.id} (pid{' '}
                          {r.pid ?? 'none'}, {r.ongoing} ongoing, {formatMiB(r.rss_bytes)})
                          {operate && (r.state === 'RUNNING' || r.state === 'STARTING') && (
                            <ActionButton
                              label="Restart"
                              operation="restartReplica"
                              input={{ params: { name: d.name, version: v.version, id: r.id } }}
                              confirm={`Restart replica ${r.id} of ${d.name} ${v.version}: it drains (requests it holds finish), stops, and the controller starts a replacement.`}
                            />
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{v.queued}</td>
                <td>{v.provider ?? 'no data'}</td>
                <td>
                  {v.restarts}
                  {v.crashLoop ? ' (crash loop)' : ''}
                </td>
                {operate && (
                  <td>
                    {v.autoscaling ? (
                      <span className="muted">autoscaled</span>
                    ) : v.state === 'retired' ? (
                      <span className="muted">retired</span>
                    ) : (
                      <ScaleForm deployment={d.name} version={v.version} target={v.target_replicas} />
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {probes && <ProbesPanel probes={probes} timeZone={timeZone} />}
      {drift && <DriftPanel drift={drift} />}
      {d.rollout ? (
        <RolloutPanel deployment={d.name} rollout={d.rollout} canOperate={operate} />
      ) : (
        <p className="muted">No rollout in progress.</p>
      )}
      {operate &&
        (d.rollout ? (
          <p className="muted">The rollout owns the weights; promote or roll it back to set them by hand.</p>
        ) : (
          <div className="actions">
            <WeightForm
              deployment={d.name}
              versions={d.versions.map((v) => ({ version: v.version, weight: v.weight }))}
            />
          </div>
        ))}
    </section>
  );
}

/** Every deployment, its versions and replicas, its rollout, and the controls to steer traffic. */
export default async function DeploymentsPage() {
  const [session, timeZone, deployments] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('listDeployments', {}),
  ]);
  const operate = canOperate(session.user.role);
  // One read per deployment: a console shows a handful, and each answer is small.
  const names = deployments.ok ? deployments.data.deployments.map((d) => d.name) : [];
  const [probes, drift] = await Promise.all([
    Promise.all(names.map((name) => apiGet('getProbes', { params: { name } }))),
    Promise.all(names.map((name) => apiGet('getDrift', { params: { name } }))),
  ]);
  return (
    <>
      <PageHeader title="Deployments" timeZone={timeZone} />
      {!deployments.ok ? (
        <ErrorPanel what="deployments" failure={deployments} />
      ) : deployments.data.deployments.length === 0 ? (
        <p className="empty">No deployments are configured (see vigil.yaml).</p>
      ) : (
        deployments.data.deployments.map((d, i) => (
          <Deployment
            key={d.name}
            d={d}
            operate={operate}
            probes={probes[i]?.ok ? probes[i].data : null}
            drift={drift[i]?.ok ? drift[i].data : null}
            timeZone={timeZone}
          />
        ))
      )}
    </>
  );
}
