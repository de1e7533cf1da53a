import type { ConsoleRuntime } from '../../lib/api-types';
import { bucketLabel, perBucket } from '../../lib/histogram';
import { trimNumber } from '../../lib/format';

/** Rows per model run, per version, as a bar per bucket: are requests being batched at all? */
export function BatchSizes({ batchSizes }: { batchSizes: ConsoleRuntime['batch_sizes'] }) {
  const withRuns = batchSizes.filter((b) => b.count > 0);
  if (withRuns.length === 0) return <p className="empty">No model runs yet.</p>;
  return (
    <div className="batch-grid">
      {withRuns.map((b) => {
        // Empty buckets above the largest batch seen say nothing; they are left out.
        const all = perBucket(b.buckets, b.count);
        const last = all.findLastIndex((x) => x.count > 0);
        const buckets = all.slice(0, Math.max(1, last + 1));
        const max = Math.max(1, ...buckets.map((x) => x.count));
        return (
          <table key={`${b.deployment}/${b.version}`} className="bars">
            <caption>
              {b.deployment} {b.version}: {b.count} runs, mean {trimNumber(b.sum / b.count)} rows per run
            </caption>
            <thead>
              <tr>
                <th scope="col">Rows per run</th>
                <th scope="col">Runs</th>
                <th scope="col">
                  <span className="sr-only">Share</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((x, i) => (
                <tr key={String(x.le)}>
                  <th scope="row">{bucketLabel(x.le, buckets[i - 1]?.le)}</th>
                  <td>{x.count}</td>
                  <td className="bar-cell">
                    <span className="bar" style={{ width: `${(100 * x.count) / max}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </div>
  );
}
