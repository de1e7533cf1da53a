import type { WindowSummary } from '../../lib/api-types';
import { formatCount, formatMs, formatPercent, formatUsd } from '../../lib/format';

const WINDOW_NAMES: Record<WindowSummary['window'], string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
};

function cost(w: WindowSummary, priceConfigured: boolean): string {
  if (!priceConfigured) return 'price not configured';
  return w.cost_per_1k_usd === null ? 'no data' : formatUsd(w.cost_per_1k_usd);
}

/** One card per window: volume, success rate, tail latency and cost per 1,000 predictions. */
export function WindowTiles({ windows, priceConfigured }: { windows: WindowSummary[]; priceConfigured: boolean }) {
  if (windows.length === 0) return <p className="empty">vigil reported no windows.</p>;
  return (
    <div className="tiles">
      {windows.map((w) => (
        <section key={w.window} className="tile" aria-label={WINDOW_NAMES[w.window] ?? w.window}>
          <h3>{WINDOW_NAMES[w.window] ?? w.window}</h3>
          <dl>
            <dt>Requests</dt>
            <dd className="big" data-testid={`requests-${w.window}`}>
              {formatCount(w.requests)}
            </dd>
            <dt>Success rate</dt>
            <dd className="big" data-testid={`success-rate-${w.window}`}>
              {formatPercent(w.success_rate)}
            </dd>
            <dt>Errors (5xx)</dt>
            <dd data-testid={`errors-${w.window}`}>{formatCount(w.errors)}</dd>
            <dt>Latency p95 / p99</dt>
            <dd data-testid={`latency-${w.window}`}>
              {formatMs(w.p95_ms)} / {formatMs(w.p99_ms)}
            </dd>
            <dt>Cost per 1,000 predictions</dt>
            <dd data-testid={`cost-${w.window}`}>{cost(w, priceConfigured)}</dd>
          </dl>
        </section>
      ))}
    </div>
  );
}
