import type { driftRoutes } from '../../contract/control/drift.ts';
import type { Handlers } from './handler.ts';

/** Prediction drift as the drift monitor sees it now. */
export const driftHandlers: Handlers<typeof driftRoutes> = {
  getDrift: async ({ ctx, params: { name } }) => {
    const d = ctx.router.get(name);
    const config = ctx.driftConfig;
    return {
      deployment: d.name,
      window: config.window,
      threshold: config.threshold,
      findings: ctx.drift.findings(d.name).map((f) => ({
        version: f.version,
        signal: f.signal,
        baseline: f.baseline,
        psi: f.psi,
        samples: f.samples,
        bins: f.bins,
      })),
    };
  },
};
