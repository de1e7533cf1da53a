import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { haveProgram } from '../helpers/programs.ts';
import { clsInput, inferJson } from '../helpers/tensors.ts';
import { clsDeployment, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

async function promQuery(
  base: string,
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const doc = (await res.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return doc.data.result;
}

describe('a real Prometheus scraping vigil', () => {
  let vigil: RunningVigil | undefined;
  let prometheus: ChildProcess | undefined;
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await vigil?.stop();
  });

  it('sees vigil_requests_total equal to what was sent', async (ctx) => {
    if (!haveProgram('prometheus', 'scrapes vigil for real')) return ctx.skip();
    vigil = await startVigil({ deployments: [clsDeployment({ num_replicas: 1 })] });
    const sent = 23;
    for (let i = 0; i < sent; i++) expect((await inferJson(vigil.url, clsInput(i))).status).toBe(200);
    const bad = await fetch(`${vigil.url}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[',
    });
    expect(bad.status).toBe(400);

    const dir = mkdtempSync(join(tmpdir(), 'vigil-prom-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vigil\n    static_configs:\n      - targets: ['127.0.0.1:${vigil.port}']\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        const r = await promQuery(base, 'vigil_requests_total{deployment="cls",code="200"}');
        return r.length === 1 && Number(r[0]!.value[1]) === sent;
      },
      45_000,
      'Prometheus to scrape the count',
    );
    const ok = await promQuery(base, 'vigil_requests_total{deployment="cls",code="200"}');
    expect(Number(ok[0]!.value[1])).toBe(sent);
    expect(ok[0]!.metric).toMatchObject({ job: 'vigil', deployment: 'cls', version: 'v1' });
    const errors = await promQuery(base, 'vigil_requests_total{deployment="cls",code="400"}');
    expect(Number(errors[0]!.value[1])).toBe(1);
    const up = await promQuery(base, 'up{job="vigil"}');
    expect(up[0]!.value[1]).toBe('1');
    // The histogram is usable for quantiles across instances.
    const p99 = await promQuery(base, 'histogram_quantile(0.99, sum by (le) (vigil_request_duration_seconds_bucket))');
    expect(Number(p99[0]!.value[1])).toBeGreaterThan(0);
  });
});
