import fc from 'fast-check';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BlockHistogram } from '../../serving/telemetry/block-histogram.ts';
import { DURATION_BUCKETS } from '../../serving/telemetry/buckets.ts';

function openMetricsRegistry(): client.Registry<client.OpenMetricsContentType> {
  return new (
    client.Registry as unknown as new (
      contentType: string,
    ) => client.Registry<client.OpenMetricsContentType>
  )(client.Registry.OPENMETRICS_CONTENT_TYPE);
}

/** Exemplar timestamps are the wall clock at observation; the two histograms read it apart. */
const withoutExemplarTimes = (text: string) => text.replace(/( # \{[^}]*\} \S+) \S+/g, '$1 T');

const observation = fc.record({
  labels: fc.constantFrom(
    { deployment: 'a', version: 'v1' },
    { deployment: 'a', version: 'v2' },
    { deployment: 'b', version: 'v1' },
  ),
  // Values on the bounds too: a value equal to a bound counts in that bound's bucket.
  value: fc.oneof(fc.double({ min: 0, max: 60, noNaN: true }), fc.constantFrom(...DURATION_BUCKETS, 0)),
  traceId: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
});

describe('BlockHistogram', () => {
  it('renders exactly what prom-client renders for the same observations, exemplars included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 200 }), async (observations) => {
        const theirs = openMetricsRegistry();
        const ours = openMetricsRegistry();
        const reference = new client.Histogram<'deployment' | 'version' | 'trace_id'>({
          name: 'x_seconds',
          help: 'h',
          labelNames: ['deployment', 'version'],
          buckets: DURATION_BUCKETS,
          enableExemplars: true,
          registers: [theirs],
        });
        const block = new BlockHistogram({
          name: 'x_seconds',
          help: 'h',
          labelNames: ['deployment', 'version'] as const,
          buckets: DURATION_BUCKETS,
          registers: [ours],
        });
        for (const o of observations) {
          if (o.traceId)
            reference.observe({ labels: o.labels, value: o.value, exemplarLabels: { trace_id: o.traceId } });
          else reference.observe({ labels: o.labels, value: o.value });
          block.series(o.labels).observe(o.value, o.traceId ? { trace_id: o.traceId } : undefined);
        }
        const [a, b] = await Promise.all([theirs.metrics(), ours.metrics()]);
        expect(withoutExemplarTimes(b)).toBe(withoutExemplarTimes(a));
      }),
      { numRuns: 200 },
    );
  });

  it('gives each label set one series, whatever object the labels come in', async () => {
    const registry = openMetricsRegistry();
    const h = new BlockHistogram({
      name: 'y',
      help: 'h',
      labelNames: ['a', 'b'] as const,
      buckets: [1],
      registers: [registry],
    });
    h.series({ a: 'x', b: 'y' }).observe(0.5);
    h.series({ b: 'y', a: 'x' }).observe(2);
    // Label values that would collide if joined without a separator stay apart.
    h.series({ a: 'xy', b: '' }).observe(0.5);
    const text = await registry.metrics();
    expect(text).toContain('y_count{a="x",b="y"} 2');
    expect(text).toContain('y_bucket{le="1",a="x",b="y"} 1');
    expect(text).toContain('y_count{a="xy",b=""} 1');
  });

  it('refuses a value that is not finite, and counts nothing for it', async () => {
    const registry = openMetricsRegistry();
    const h = new BlockHistogram({
      name: 'z',
      help: 'h',
      labelNames: ['a'] as const,
      buckets: [1],
      registers: [registry],
    });
    const s = h.series({ a: 'x' });
    expect(() => s.observe(Number.NaN)).toThrow(TypeError);
    expect(() => s.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(s.count).toBe(0);
    expect(s.sum).toBe(0);
  });
});
