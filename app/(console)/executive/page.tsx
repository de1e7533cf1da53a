import type { Metadata } from 'next';
import { ErrorPanel } from '../../components/error-panel';
import { PageHeader } from '../../components/page-header';
import { SeriesSource } from '../../components/series-source';
import { TimeChart } from '../../components/time-chart';
import { formatCount, formatMs, formatPercent } from '../../lib/format';
import { readerTimeZone } from '../../lib/reader-time-zone';
import { getSeries, totalPoints } from '../../lib/series';
import { requireSession } from '../../lib/session';
import { apiGet } from '../../lib/vigil-api';
import { SloBudgets } from './slo-budgets';
import { WindowTiles } from './window-tiles';

export const metadata: Metadata = { title: 'Executive · vigil console' };

/** The service at a glance: volume, success, latency, cost, error budgets. */
export default async function ExecutivePage() {
  const [, timeZone, summary, series] = await Promise.all([
    requireSession(),
    readerTimeZone(),
    apiGet('getConsoleSummary', {}),
    getSeries('1h'),
  ]);
  const totals = series.ok ? totalPoints(series.data) : [];
  return (
    <>
      <PageHeader title="Executive" timeZone={timeZone} />

      <section aria-labelledby="windows-h">
        <h2 id="windows-h">Service level</h2>
        {summary.ok ? (
          <WindowTiles windows={summary.data.windows} priceConfigured={summary.data.cpu_hour_usd !== null} />
        ) : (
          <ErrorPanel what="the summary" failure={summary} />
        )}
        {summary.ok && summary.data.cpu_hour_usd !== null ? (
          <p className="muted">Cost uses replica CPU time at ${summary.data.cpu_hour_usd} per CPU-hour.</p>
        ) : null}
      </section>

      <section aria-labelledby="volume-h">
        <h2 id="volume-h">Request volume</h2>
        <p>
          Active deployments:{' '}
          <strong data-testid="active-deployments">
            {summary.ok ? formatCount(summary.data.active_deployments) : 'no data'}
          </strong>
        </p>
        {series.ok ? (
          <>
            <TimeChart
              title="Requests per minute, last hour"
              unit="req/min"
              kind="bars"
              times={totals.map((p) => p.t)}
              series={[{ label: 'requests', values: totals.map((p) => p.requests) }]}
              empty={totals.every((p) => p.requests === 0)}
            />
            <SeriesSource series={series.data} />
          </>
        ) : (
          <ErrorPanel what="the request volume chart" failure={series} />
        )}
      </section>

      <section aria-labelledby="deployments-h">
        <h2 id="deployments-h">Deployments, last hour</h2>
        {!summary.ok ? (
          <ErrorPanel what="deployments" failure={summary} />
        ) : summary.data.deployments.length === 0 ? (
          <p className="empty">No deployments.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Versions</th>
                <th scope="col">Requests</th>
                <th scope="col">Success rate</th>
                <th scope="col">p99</th>
              </tr>
            </thead>
            <tbody>
              {summary.data.deployments.map((d) => (
                <tr key={d.name}>
                  <th scope="row">{d.name}</th>
                  <td>{d.versions}</td>
                  <td>{formatCount(d.requests_1h)}</td>
                  <td>{formatPercent(d.success_rate_1h)}</td>
                  <td>{formatMs(d.p99_ms_1h)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="budgets-h">
        <h2 id="budgets-h">Error budgets</h2>
        {summary.ok ? <SloBudgets slos={summary.data.slos} /> : <ErrorPanel what="error budgets" failure={summary} />}
      </section>
    </>
  );
}
