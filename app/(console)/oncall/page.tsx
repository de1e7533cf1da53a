import type { Metadata } from 'next';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { SeriesSource } from '../../components/series-source';
import { groupBySeverity } from '../../lib/alert-order';
import type { Runbook } from '../../lib/api-types';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { getSeries } from '../../lib/series';
import { canOperate, requireSession } from '../../lib/session';
import { apiGet, type ApiResult } from '../../lib/vigil-api';
import { AlertCard } from './alert-card';
import { DeploymentCharts } from './deployment-charts';
import { RejectedTable, RestartsTable } from './runtime-health';

export const metadata: Metadata = { title: 'On-call · vigil console' };

/** What is burning now and what to do about it: alerts, their runbooks, latency and errors. */
export default async function OncallPage() {
  // One call for every runbook, matched to alerts here: a call per alert name cost seconds
  // once hundreds of alerts were firing, on every refresh of every open tab.
  const [session, timeZone, alerts, slos, series, runtime, allRunbooks] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('listAlerts', { query: { state: 'pending,firing' } }),
    apiGet('listSlos', {}),
    getSeries('1h'),
    apiGet('getConsoleRuntime', {}),
    apiGet('listRunbooks', {}),
  ]);
  const runbooksFor = (alertName: string): ApiResult<{ runbooks: Runbook[] }> =>
    allRunbooks.ok
      ? {
          ok: true,
          status: allRunbooks.status,
          data: { runbooks: allRunbooks.data.runbooks.filter((r) => r.alert_names.includes(alertName)) },
        }
      : allRunbooks;
  const sloById = new Map(slos.ok ? slos.data.slos.map((s) => [s.id, s]) : []);
  const operate = canOperate(session.user.role);
  const now = new Date();

  return (
    <>
      <PageHeader title="On-call" timeZone={timeZone} />

      <section aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts</h2>
        {!slos.ok && <ErrorPanel what="SLO burn rates" failure={slos} />}
        {!alerts.ok ? (
          <ErrorPanel what="alerts" failure={alerts} />
        ) : alerts.data.alerts.length === 0 ? (
          <p className="empty all-clear" data-testid="no-alerts">
            No alert is firing or pending.
          </p>
        ) : (
          groupBySeverity(alerts.data.alerts).map((g) => (
            <div key={g.severity} className={`severity-group severity-${g.severity}`}>
              <h3>
                Severity {g.severity} ({g.alerts.length})
              </h3>
              {g.alerts.map((a) => (
                <AlertCard
                  key={a.fingerprint}
                  alert={a}
                  slo={a.sloId ? (sloById.get(a.sloId) ?? null) : null}
                  runbooks={runbooksFor(a.name)}
                  canOperate={operate}
                  timeZone={timeZone}
                  now={now}
                />
              ))}
            </div>
          ))
        )}
      </section>

      <section aria-labelledby="latency-h">
        <h2 id="latency-h">Latency and errors per deployment, last hour</h2>
        {series.ok ? (
          <>
            <DeploymentCharts
              series={series.data}
              current={
                runtime.ok
                  ? new Map(runtime.data.deployments.map((d) => [d.name, new Set(d.versions.map((v) => v.version))]))
                  : undefined
              }
            />
            <SeriesSource series={series.data} />
          </>
        ) : (
          <ErrorPanel what="latency and error charts" failure={series} />
        )}
      </section>

      <section aria-labelledby="rejected-h">
        <h2 id="rejected-h">Rejected requests</h2>
        {runtime.ok ? (
          <RejectedTable rejected={runtime.data.rejected} />
        ) : (
          <ErrorPanel what="rejected requests" failure={runtime} />
        )}
      </section>

      <section aria-labelledby="restarts-h">
        <h2 id="restarts-h">Replica restarts and crash loops</h2>
        {runtime.ok ? (
          <RestartsTable runtime={runtime.data} />
        ) : (
          <ErrorPanel what="replica restarts" failure={runtime} />
        )}
      </section>
    </>
  );
}
