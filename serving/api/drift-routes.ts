import type { driftRoutes } from '../../contract/control/drift.ts';
import { VigilError } from '../errors.ts';
import { audited } from './audited.ts';
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
        baseline:
          f.baseline.kind === 'pinned'
            ? { kind: 'pinned' as const, pinned_at: new Date(f.baseline.pinnedAt) }
            : f.baseline,
        psi: f.psi,
        samples: f.samples,
        bins: f.bins,
      })),
    };
  },
  pinDriftBaseline: async ({ ctx, actor, params: { name, version } }) => {
    ctx.router.get(name).pick({ version });
    const now = Date.now();
    const signals = await audited(ctx, actor, 'drift.pin_baseline', `deployment/${name}/${version}`, async () => {
      const pinned = ctx.drift.store.pin(name, version, now);
      // Nothing to keep: refused before the audit row is written (the transaction rolls back).
      if (pinned.length === 0)
        throw new VigilError('VIGIL_ERR_CONFLICT', `"${name}" ${version} has answered nothing in the drift window yet`);
      return { after: { signals: pinned }, result: pinned };
    });
    return { deployment: name, version, pinned_at: new Date(now), signals };
  },
  unpinDriftBaseline: async ({ ctx, actor, params: { name, version } }) => {
    ctx.router.get(name).pick({ version });
    const removed = await audited(ctx, actor, 'drift.unpin_baseline', `deployment/${name}/${version}`, async () => ({
      result: ctx.drift.store.unpin(name, version),
    }));
    if (!removed) throw new VigilError('VIGIL_ERR_NO_SUCH_RESOURCE', `a pinned drift baseline of "${name}" ${version}`);
  },
};
