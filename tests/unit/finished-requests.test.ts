import { deserialize, serialize } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COUNTS_AS_SLI,
  COUNTS_IN_METRICS,
  FinishedRequestColumns,
  type FinishedRequest,
  type FinishedRequests,
} from '../../serving/telemetry/finished-requests.ts';
import { VigilMetrics } from '../../serving/telemetry/metrics.ts';
import { RequestHistory } from '../../serving/telemetry/request-history.ts';
import { LiveWindow } from '../../serving/rollout/live-window.ts';
import type { SloDefinition } from '../../slo/definition.ts';
import { sliKey } from '../../slo/evaluate-slo.ts';
import { SliCollector } from '../../slo/sli-collector.ts';
import { SliWindow } from '../../slo/sli-window.ts';
import { parseSamples, sampleValue } from '../helpers/metrics-text.ts';

const BOTH = COUNTS_IN_METRICS | COUNTS_AS_SLI;

function row(over: Partial<FinishedRequest> = {}): FinishedRequest {
  return { deployment: 'cls', version: 'v1', status: 200, durationSeconds: 0.002, counts: BOTH, ...over };
}

/** What the primary receives: the columns after the IPC channel's structured clone. */
function overTheChannel(columns: FinishedRequestColumns): FinishedRequests[] {
  return deserialize(serialize(columns.take())) as FinishedRequests[];
}

describe('FinishedRequestColumns', () => {
  it('groups rows by deployment version and keeps every field of every row, in order', () => {
    const columns = new FinishedRequestColumns();
    const sent: FinishedRequest[] = [];
    for (let i = 0; i < 300; i++) {
      const r = row({
        version: i % 3 === 0 ? 'v2' : 'v1',
        status: i % 7 === 0 ? 503 : 200,
        durationSeconds: i / 1000,
        counts: i % 5 === 0 ? COUNTS_IN_METRICS : BOTH,
        reject: i % 7 === 0 ? 'overload' : undefined,
        queueWaitSeconds: i % 2 === 0 ? i / 10_000 : undefined,
        traceId: i % 10 === 0 ? i.toString(16).padStart(32, '0') : undefined,
        batch:
          i % 4 === 0
            ? { provider: i % 8 === 0 ? 'cpu' : 'webgpu', size: 1 + (i % 8), inferenceSeconds: i / 5000 }
            : undefined,
      });
      sent.push(r);
      columns.add(r);
    }
    expect(columns.size).toBe(300);
    const blocks = overTheChannel(columns);
    expect(columns.size).toBe(0);
    expect(blocks.map((b) => b.version).sort()).toEqual(['v1', 'v2']);
    for (const b of blocks) {
      const mine = sent.filter((r) => r.version === b.version);
      expect(b.length).toBe(mine.length);
      expect(b.status.length).toBe(mine.length);
      mine.forEach((r, i) => {
        expect(b.status[i]).toBe(r.status);
        expect(b.durationSeconds[i]).toBe(r.durationSeconds);
        expect(b.counts[i]).toBe(r.counts);
        expect(b.reject[i]).toBe(r.reject ? 1 : 0);
        if (r.queueWaitSeconds === undefined) expect(b.queueWaitSeconds[i]).toBeNaN();
        else expect(b.queueWaitSeconds[i]).toBe(r.queueWaitSeconds);
        expect(b.batchSize[i]).toBe(r.batch?.size ?? 0);
        if (r.batch) {
          expect(b.providers[b.provider[i]!]).toBe(r.batch.provider);
          expect(b.inferenceSeconds[i]).toBe(r.batch.inferenceSeconds);
        }
      });
      expect(b.traces).toEqual(mine.flatMap((r, i) => (r.traceId ? [{ row: i, traceId: r.traceId }] : [])));
    }
  });

  it('starts empty again after a take, and reuses nothing a taken block holds', () => {
    const columns = new FinishedRequestColumns();
    columns.add(row({ status: 500 }));
    const [first] = columns.take();
    columns.add(row({ status: 200 }));
    const [second] = columns.take();
    expect(first!.status[0]).toBe(500);
    expect(second!.status[0]).toBe(200);
    expect(columns.take()).toEqual([]);
  });
});

describe('recording finished requests at the primary', () => {
  let metrics: VigilMetrics | undefined;
  afterEach(() => metrics?.stop());

  it('counts each metric row once: codes, refusals, queue waits, batches by provider, exemplars', async () => {
    metrics = new VigilMetrics(() => []);
    const columns = new FinishedRequestColumns();
    columns.add(
      row({ status: 200, queueWaitSeconds: 0.001, batch: { provider: 'cpu', size: 3, inferenceSeconds: 0.001 } }),
    );
    columns.add(row({ status: 200, traceId: 'ab'.repeat(16) }));
    columns.add(row({ status: 503, reject: 'overload', durationSeconds: 0.0001 }));
    columns.add(
      row({ status: 504, reject: 'deadline', batch: { provider: 'webgpu', size: 1, inferenceSeconds: 0.5 } }),
    );
    // An SLI-only row (the benchmark's metrics-off mode) is no metric.
    columns.add(row({ status: 200, counts: COUNTS_AS_SLI }));
    // A metrics-only block of an unknown model.
    columns.add(
      row({
        deployment: '__unknown__',
        version: '__unknown__',
        status: 404,
        counts: COUNTS_IN_METRICS,
        reject: 'invalid',
      }),
    );
    for (const f of overTheChannel(columns)) metrics.observeFinished(f);
    const text = await metrics.render(true);
    const s = parseSamples(text);
    const cls = { deployment: 'cls', version: 'v1' };
    expect(sampleValue(s, 'vigil_requests_total', { ...cls, code: '200' })).toBe(2);
    expect(sampleValue(s, 'vigil_requests_total', { ...cls, code: '503' })).toBe(1);
    expect(sampleValue(s, 'vigil_requests_total', { ...cls, code: '504' })).toBe(1);
    expect(sampleValue(s, 'vigil_request_duration_seconds_count', cls)).toBe(4);
    expect(sampleValue(s, 'vigil_request_duration_seconds_bucket', { ...cls, le: '0.0005' })).toBe(1);
    expect(sampleValue(s, 'vigil_queue_wait_seconds_count', cls)).toBe(1);
    expect(sampleValue(s, 'vigil_rejected_requests_total', { deployment: 'cls', reason: 'overload' })).toBe(1);
    expect(sampleValue(s, 'vigil_rejected_requests_total', { deployment: 'cls', reason: 'deadline' })).toBe(1);
    expect(sampleValue(s, 'vigil_rejected_requests_total', { deployment: '__unknown__', reason: 'invalid' })).toBe(1);
    expect(sampleValue(s, 'vigil_inference_duration_seconds_count', { ...cls, provider: 'cpu' })).toBe(1);
    expect(sampleValue(s, 'vigil_inference_duration_seconds_count', { ...cls, provider: 'webgpu' })).toBe(1);
    expect(sampleValue(s, 'vigil_batch_size_sum', cls)).toBe(4);
    // The traced row's bucket carries its trace id as the exemplar, with the row's duration.
    const bucket = 'vigil_request_duration_seconds_bucket{le="0.0025",deployment="cls",version="v1"} 4';
    expect(text).toContain(`${bucket} # {trace_id="${'ab'.repeat(16)}"} 0.002 `);
  });

  it('makes no series for a block that has no metric rows', async () => {
    metrics = new VigilMetrics(() => []);
    const columns = new FinishedRequestColumns();
    columns.add(row({ counts: COUNTS_AS_SLI }));
    for (const f of overTheChannel(columns)) metrics.observeFinished(f);
    expect(await metrics.render(true)).not.toMatch(/vigil_request_duration_seconds_count\{/);
  });

  it('feeds the history and the canary window only the SLI rows', () => {
    const columns = new FinishedRequestColumns();
    columns.add(row({ status: 200, durationSeconds: 0.004 }));
    columns.add(row({ status: 500, durationSeconds: 0.02 }));
    columns.add(row({ status: 404, counts: COUNTS_IN_METRICS }));
    columns.add(row({ deployment: '__unknown__', version: '__unknown__', status: 404, counts: COUNTS_IN_METRICS }));
    const history = new RequestHistory();
    const window = new LiveWindow();
    const at = 1_700_000_000_000;
    for (const f of overTheChannel(columns)) {
      history.recordFinished(f, at);
      window.recordFinished(f, at);
    }
    const totals = history.totals(at, 60_000);
    expect(totals.requests).toBe(2);
    expect(totals.errors).toBe(1);
    // The unknown model's block made no bucket at all, not even an empty one.
    expect(history.drain().map((r) => r.deployment)).toEqual(['cls']);
    const w = window.summary('cls', 'v1', at, at);
    expect(w.requests).toBe(2);
    expect(w.errors).toBe(1);
    expect(window.summary('__unknown__', '__unknown__', at, at).requests).toBe(0);
  });
});

describe('SLI events from finished requests', () => {
  const slo = (over: Partial<SloDefinition>): SloDefinition => ({
    id: 'x',
    deployment: 'cls',
    version: null,
    kind: 'availability',
    objective: 0.99,
    windowSeconds: 3600,
    latencyThresholdSeconds: null,
    ...over,
  });

  it('counts each SLO its own good rows, by version, and gives correctness SLOs none', () => {
    const at = 1_700_000_000_000;
    const window = new SliWindow();
    const collector = new SliCollector(
      window,
      [
        slo({ id: 'avail' }),
        slo({ id: 'fast', kind: 'latency', latencyThresholdSeconds: 0.005 }),
        slo({ id: 'v2-only', version: 'v2' }),
        slo({ id: 'right', kind: 'correctness' }),
      ],
      () => at,
    );
    const columns = new FinishedRequestColumns();
    columns.add(row({ status: 200, durationSeconds: 0.005 }));
    columns.add(row({ status: 200, durationSeconds: 0.0051 }));
    columns.add(row({ status: 503, durationSeconds: 0.001 }));
    columns.add(row({ status: 200, durationSeconds: 0.001, counts: COUNTS_IN_METRICS }));
    columns.add(row({ version: 'v2', status: 500 }));
    for (const f of overTheChannel(columns)) collector.recordFinished(f);
    const counts = (key: string) => window.totals(at + 1, 60_000, (k) => k === key);
    expect(counts(sliKey('avail', 'v1'))).toEqual({ good: 2, total: 3 });
    expect(counts(sliKey('fast', 'v1'))).toEqual({ good: 2, total: 3 });
    expect(counts(sliKey('avail', 'v2'))).toEqual({ good: 0, total: 1 });
    expect(counts(sliKey('v2-only', 'v1'))).toEqual({ good: 0, total: 0 });
    expect(counts(sliKey('v2-only', 'v2'))).toEqual({ good: 0, total: 1 });
    expect(counts(sliKey('right', 'v1'))).toEqual({ good: 0, total: 0 });
    const pending = collector.drain();
    expect(pending.find((r) => r.sloId === 'fast' && r.version === 'v1')).toMatchObject({ good: 2, total: 3 });
    expect(pending.some((r) => r.sloId === 'right')).toBe(false);
  });
});
