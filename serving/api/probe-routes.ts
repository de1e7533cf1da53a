import type { probeRoutes } from '../../contract/control/probes.ts';
import { VigilError } from '../errors.ts';
import { expectationFrom } from '../probes/expectation.ts';
import type { ProbeResult } from '../probes/prober.ts';
import type { Handlers } from './handler.ts';

function probeView(r: ProbeResult) {
  return {
    probe: r.probe,
    version: r.version,
    at: new Date(r.at),
    result: r.result,
    detail: r.detail,
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
  };
}

/** Probes: their latest results, a run on demand, and recording a known-good version's answers. */
export const probeHandlers: Handlers<typeof probeRoutes> = {
  getProbes: async ({ ctx, params: { name } }) => {
    const d = ctx.router.get(name);
    return {
      deployment: d.name,
      probes: ctx.prober.probesOf(d.name).map((p) => ({
        name: p.name,
        interval: p.interval,
        timeout_ms: p.timeout_ms,
        versions: p.versions ? [...p.versions] : null,
        expect: p.expect,
      })),
      results: ctx.prober.latest(d.name).map(probeView),
    };
  },
  runProbes: async ({ ctx, params: { name, version } }) => {
    ctx.router.get(name).pick({ version });
    return { results: (await ctx.prober.runAll(name, version)).map(probeView) };
  },
  recordProbes: async ({ ctx, params: { name, version }, body }) => {
    ctx.router.get(name).pick({ version });
    if (!body.requests && ctx.prober.probesOf(name).length === 0)
      throw new VigilError('VIGIL_ERR_INVALID_BODY', `"${name}" has no probes in vigil.yaml; give requests to record`);
    const answers = await ctx.prober.answers(name, version, body.requests);
    return {
      deployment: name,
      version,
      probes: answers.map((a) => {
        if ('failure' in a.answer) return { name: a.name, expect: null, problem: `no answer: ${a.answer.failure}` };
        const made = expectationFrom(a.answer, a.custom ? 'allclose' : body.expect);
        return 'problem' in made
          ? { name: a.name, expect: null, problem: made.problem }
          : { name: a.name, expect: made.expect, problem: null };
      }),
    };
  },
};
