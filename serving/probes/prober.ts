import { readFileSync } from 'node:fs';
import type { DeploymentConfig, probeSchema } from '../config/schema.ts';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import { parseDuration } from '../../slo/duration.ts';
import { judgeAnswer, type ProbeAnswer } from './expectation.ts';
import { runCheck } from './probe-check.ts';
import { PROBE_HEADER, PROBE_NAME_HEADER } from './probe-headers.ts';

type ProbeConfig = z.output<typeof probeSchema>;

export type ProbeOutcome = 'pass' | 'fail' | 'error';

export interface ProbeResult {
  deployment: string;
  version: string;
  probe: string;
  at: number;
  result: ProbeOutcome;
  /** What the answer was against what was expected, or why there was none. */
  detail: string;
  durationMs: number;
}

/** Probe runs of one version since a time: what a rollout's analysis reads. */
export interface ProbeSummary {
  runs: number;
  failed: number;
  /** The most recent failed run, whose detail names the difference. */
  lastFailure: ProbeResult | undefined;
}

export interface ProberOptions {
  deployments: readonly DeploymentConfig[];
  /** The versions to probe now: those that serve or are being rolled out, with a running replica. */
  liveVersions(deployment: string): string[];
  /** The node's public address, e.g. http://127.0.0.1:8000. */
  baseUrl(): string;
  token: string;
  record(result: ProbeResult): void;
  log: Logger;
  now?: () => number;
}

/** The results kept per version and probe: enough for any analysis window, bounded. */
const KEEP = 100;

/**
 * Sends each deployment's probes through the public port, pinned to each live version, on their
 * intervals, and judges the answers (expectation.ts). Results go to `record` (metrics, the
 * correctness SLI) and stay here for the rollout gate and the API.
 */
export class Prober {
  private readonly bodies = new Map<string, { body: Buffer; contentType: string }>();
  private readonly results = new Map<string, ProbeResult[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;

  constructor(private readonly o: ProberOptions) {
    this.now = o.now ?? Date.now;
    for (const d of o.deployments) for (const p of d.probes) this.bodies.set(`${d.name}\u0000${p.name}`, requestOf(p));
  }

  /** Every probe of a deployment, as configured. */
  probesOf(deployment: string): readonly ProbeConfig[] {
    return this.o.deployments.find((d) => d.name === deployment)?.probes ?? [];
  }

  start(): void {
    for (const d of this.o.deployments) {
      for (const p of d.probes) {
        const tick = () => {
          for (const version of this.o.liveVersions(d.name))
            if (!p.versions || p.versions.includes(version)) void this.run(d.name, p.name, version);
        };
        const timer = setInterval(tick, parseDuration(p.interval) * 1000);
        timer.unref();
        this.timers.push(timer);
        // The first runs come soon after start, once replicas are up, not a whole interval later.
        setTimeout(tick, 2000).unref();
      }
    }
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Runs every probe of a deployment against one version now (the rollout gate, `vigil probe run`). */
  async runAll(deployment: string, version: string): Promise<ProbeResult[]> {
    const probes = this.probesOf(deployment).filter((p) => !p.versions || p.versions.includes(version));
    return Promise.all(probes.map((p) => this.run(deployment, p.name, version)));
  }

  async run(deployment: string, probeName: string, version: string): Promise<ProbeResult> {
    const d = this.o.deployments.find((x) => x.name === deployment);
    const p = d?.probes.find((x) => x.name === probeName);
    if (!d || !p) throw new Error(`no probe "${probeName}" on "${deployment}"`);
    const started = this.now();
    const t0 = performance.now();
    const finish = (result: ProbeOutcome, detail: string): ProbeResult => {
      const r = {
        deployment,
        version,
        probe: p.name,
        at: started,
        result,
        detail,
        durationMs: performance.now() - t0,
      };
      this.keep(r);
      this.o.record(r);
      if (result !== 'pass')
        this.o.log.warn({ deployment, version, probe: p.name, result, detail }, 'probe did not pass');
      return r;
    };
    try {
      const answer = await this.send(d, p.name, p.body_file !== undefined, p.path, p.timeout_ms, version);
      if ('failure' in answer) return finish('error', answer.failure);
      const judged = 'check' in p.expect ? await runCheck(p.expect.check, answer) : judgeAnswer(p.expect, answer);
      return finish(judged.pass ? 'pass' : 'fail', judged.detail);
    } catch (err) {
      const e = err as Error;
      return finish('error', e.name === 'TimeoutError' ? `no answer within ${p.timeout_ms} ms` : e.message);
    }
  }

  /**
   * What a version answers each probe now, for `vigil probe record`: the configured probes, or the
   * inference requests given (sent the same way, as synthetic requests).
   */
  async answers(
    deployment: string,
    version: string,
    given?: { name: string; request: Record<string, unknown> }[],
  ): Promise<{ name: string; custom: boolean; answer: ProbeAnswer | { failure: string } }[]> {
    const d = this.o.deployments.find((x) => x.name === deployment);
    if (!d) throw new Error(`no deployment "${deployment}"`);
    if (given)
      return Promise.all(
        given.map(async (g) => {
          const request = { body: Buffer.from(JSON.stringify(g.request)), contentType: 'application/json' };
          const answer = await this.send(d, g.name, false, '', 30_000, version, request);
          return { name: g.name, custom: false, answer };
        }),
      );
    return Promise.all(
      d.probes.map(async (p) => {
        const custom = p.body_file !== undefined;
        return { name: p.name, custom, answer: await this.send(d, p.name, custom, p.path, p.timeout_ms, version) };
      }),
    );
  }

  /** The answer as the judge reads it, or why there is none. */
  private async send(
    d: DeploymentConfig,
    name: string,
    custom: boolean,
    subPath: string,
    timeoutMs: number,
    version: string,
    request = this.bodies.get(`${d.name}\u0000${name}`)!,
  ): Promise<ProbeAnswer | { failure: string }> {
    const { body, contentType } = request;
    const path = custom
      ? `${d.route!.prefix}${subPath}`
      : `/v2/models/${encodeURIComponent(d.name)}/versions/${encodeURIComponent(version)}/infer`;
    const res = await fetch(this.o.baseUrl() + path, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        [PROBE_HEADER]: this.o.token,
        [PROBE_NAME_HEADER]: name,
        'x-vigil-version': version,
        'x-vigil-timeout-ms': String(timeoutMs),
      },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(timeoutMs + 1000),
    });
    const text = await res.text();
    if (!res.ok) {
      let code = '';
      try {
        code = ` ${(JSON.parse(text) as { code?: string }).code ?? ''}`;
      } catch {
        // not JSON: the status says enough
      }
      return { failure: `HTTP ${res.status}${code}`.trim() };
    }
    let doc: unknown;
    try {
      // JSON lines (a streamed or line-per-item answer) are judged as the array of their lines.
      const lines = /ndjson|jsonl/.test(res.headers.get('content-type') ?? '');
      doc = lines
        ? text
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l))
        : JSON.parse(text);
    } catch {
      return { failure: 'the answer is not JSON' };
    }
    if (custom) return { json: doc };
    const outputs = (doc as { outputs?: unknown }).outputs;
    if (!Array.isArray(outputs)) return { failure: 'the answer has no outputs' };
    return { outputs: outputs as { name: string; shape: number[]; data: unknown[] }[] };
  }

  private keep(r: ProbeResult): void {
    const key = `${r.deployment}\u0000${r.version}\u0000${r.probe}`;
    const list = this.results.get(key) ?? [];
    list.push(r);
    if (list.length > KEEP) list.shift();
    this.results.set(key, list);
  }

  /** The latest result of each probe and version of a deployment. */
  latest(deployment: string): ProbeResult[] {
    const out: ProbeResult[] = [];
    for (const [key, list] of this.results)
      if (key.startsWith(`${deployment}\u0000`) && list.length > 0) out.push(list.at(-1)!);
    return out.sort((a, b) => a.version.localeCompare(b.version) || a.probe.localeCompare(b.probe));
  }

  /** The runs of a version's probes since `since` (epoch ms). */
  summary(deployment: string, version: string, since: number): ProbeSummary {
    let runs = 0;
    let failed = 0;
    let lastFailure: ProbeResult | undefined;
    for (const [key, list] of this.results) {
      if (!key.startsWith(`${deployment}\u0000${version}\u0000`)) continue;
      for (const r of list) {
        if (r.at < since) continue;
        runs++;
        if (r.result !== 'pass') {
          failed++;
          if (!lastFailure || r.at > lastFailure.at) lastFailure = r;
        }
      }
    }
    return { runs, failed, lastFailure };
  }
}

function requestOf(p: ProbeConfig): { body: Buffer; contentType: string } {
  if (p.body_file !== undefined) return { body: readFileSync(p.body_file), contentType: p.content_type };
  const request = p.request ?? (JSON.parse(readFileSync(p.request_file!, 'utf8')) as Record<string, unknown>);
  return { body: Buffer.from(JSON.stringify(request)), contentType: 'application/json' };
}

/** A probe's failure in one line: "probe upright on v2: top-1 class 1 (0.99), expected 0". */
export function describeFailure(r: ProbeResult): string {
  return `probe ${r.probe} on ${r.version} ${r.result === 'error' ? 'got no answer' : 'failed'}: ${r.detail}`;
}
