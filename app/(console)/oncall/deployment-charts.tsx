import { TimeChart } from '../../components/time-chart';
import type { Series } from '../../lib/series';

/**
 * Latency (p95, p99) and error-rate charts per deployment, one line per version so a bad canary
 * stands out from its stable version. A minute without requests is a gap, not a zero.
 * `current` holds the deployments and versions the node serves now (undefined when unknown): the
 * history of others is still drawn, after them, labelled "removed", so that a chart never
 * suggests the node serves something it no longer has.
 */
export function DeploymentCharts({ series, current }: { series: Series; current?: Map<string, Set<string>> }) {
  const byDeployment = new Map<string, Series['series']>();
  for (const s of series.series) {
    const list = byDeployment.get(s.deployment);
    if (list) list.push(s);
    else byDeployment.set(s.deployment, [s]);
  }
  if (byDeployment.size === 0) return <p className="empty">No deployment has a series yet.</p>;
  const removed = (name: string) => current !== undefined && !current.has(name);
  const versionLabel = (name: string, version: string) =>
    current !== undefined && !current.get(name)?.has(version) ? `${version} (removed)` : version;
  const ordered = [...byDeployment.entries()].sort(([a], [b]) => Number(removed(a)) - Number(removed(b)));
  return (
    <>
      {ordered.map(([name, versions]) => {
        const times = versions[0]!.points.map((p) => p.t);
        const empty = versions.every((v) => v.points.every((p) => p.requests === 0));
        return (
          <div key={name} data-testid={`charts-${name}`}>
            <h3>{removed(name) ? `${name} (removed: not in this node's config)` : name}</h3>
            <div className="chart-pair">
              <TimeChart
                title={`${name}: latency`}
                unit="ms"
                times={times}
                empty={empty}
                series={versions.flatMap((v) => [
                  { label: `${versionLabel(name, v.version)} p95`, values: v.points.map((p) => p.p95_ms) },
                  { label: `${versionLabel(name, v.version)} p99`, values: v.points.map((p) => p.p99_ms) },
                ])}
              />
              <TimeChart
                title={`${name}: error rate (5xx)`}
                unit="%"
                times={times}
                empty={empty}
                series={versions.map((v) => ({
                  label: versionLabel(name, v.version),
                  values: v.points.map((p) => (p.requests > 0 ? (100 * p.errors) / p.requests : null)),
                }))}
              />
            </div>
          </div>
        );
      })}
    </>
  );
}
