import type client from 'prom-client';

/** One label set's counts: a slot per bound (non-cumulative), then one for above the last. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** The latest exemplar per slot, as OpenMetrics wants it: labels, value, seconds since the epoch. */
  readonly exemplars: ({ labelSet: Record<string, string>; value: number; timestamp: number } | undefined)[];

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
    private readonly nowMs: () => number,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.exemplars = new Array(bounds.length + 1).fill(undefined);
  }

  /** One observation; `exemplar` (e.g. its trace id) replaces the slot's exemplar. */
  observe(value: number, exemplar?: Record<string, string>): void {
    if (!Number.isFinite(value)) throw new TypeError(`histogram value must be finite, got ${value}`);
    let slot = 0;
    // A value on a bound counts in that bound's bucket (Prometheus `le`).
    while (slot < this.bounds.length && value > this.bounds[slot]!) slot++;
    this.counts[slot]!++;
    this.sum += value;
    this.count++;
    if (exemplar) this.exemplars[slot] = { labelSet: exemplar, value, timestamp: this.nowMs() / 1000 };
  }
}

/**
 * A Prometheus histogram for observations that arrive in blocks: the primary records what each
 * ingress process reports, a block of requests per deployment version at a time. It resolves the
 * label set once per block (`series`), where prom-client's Histogram validates and hashes the
 * labels on every observation, about 1 µs each, which is most of what recording a request cost
 * the primary (decision 0016). It registers in a prom-client registry, which renders it exactly as
 * it renders its own histograms (tests/unit/block-histogram.test.ts compares the two).
 */
export class BlockHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly labelNames: readonly L[];
  private readonly nowMs: () => number;
  /** Label values joined by NUL (which no label value holds: they come from names we validate). */
  private readonly byLabels = new Map<string, HistogramSeries>();

  constructor(o: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers: client.Registry<client.OpenMetricsContentType>[];
    nowMs?: () => number;
  }) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames;
    this.bounds = [...o.buckets].sort((a, b) => a - b);
    this.nowMs = o.nowMs ?? Date.now;
    // prom-client takes any object with its metrics' shape; its type names only its own classes.
    for (const r of o.registers) r.registerMetric(this as unknown as client.Metric);
  }

  /** The series of one label set, made on first use. */
  series(labels: Readonly<Record<L, string>>): HistogramSeries {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    let s = this.byLabels.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      this.byLabels.set(key, (s = new HistogramSeries(own, this.bounds, this.nowMs)));
    }
    return s;
  }

  reset(): void {
    this.byLabels.clear();
  }

  /**
   * What a prom-client registry renders: cumulative buckets, +Inf, sum and count per series. As
   * in prom-client, the series' labels are `sharedLabels`, one object per series, which the
   * registry flattens once and caches, and `le` goes first.
   */
  async getForPromString(): Promise<RenderedMetric> {
    const values: RenderedSample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.byLabels.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push(sample(bucket, { le: this.bounds[i]! }, s, cumulative, s.exemplars[i]));
      }
      values.push(sample(bucket, { le: '+Inf' }, s, s.count, s.exemplars[this.bounds.length]));
      values.push(sample(`${this.name}_sum`, {}, s, s.sum));
      values.push(sample(`${this.name}_count`, {}, s, s.count));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same, with each sample's labels whole (prom-client's JSON form). */
  async get(): Promise<RenderedMetric> {
    const m = await this.getForPromString();
    for (const v of m.values) v.labels = { ...v.labels, ...v.sharedLabels };
    return m;
  }
}

interface RenderedSample {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  exemplar?: HistogramSeries['exemplars'][number];
}

interface RenderedMetric {
  name: string;
  help: string;
  type: 'histogram';
  values: RenderedSample[];
  aggregator: 'sum';
}

function sample(
  metricName: string,
  labels: Record<string, string | number>,
  series: HistogramSeries,
  value: number,
  exemplar?: HistogramSeries['exemplars'][number],
): RenderedSample {
  const out: RenderedSample = { metricName, labels, sharedLabels: series.labels, value };
  if (exemplar) out.exemplar = exemplar;
  return out;
}
