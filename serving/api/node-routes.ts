import type { nodeRoutes } from '../../contract/control/node.ts';
import { audited } from './audited.ts';
import type { Handlers } from './handler.ts';

/** The node itself: its status, its shutdown, and the cluster it belongs to (docs/cluster.md). */
export const nodeHandlers: Handlers<typeof nodeRoutes> = {
  getStatus: async ({ ctx }) => ctx.status(),
  shutdown: async ({ ctx, actor }) => {
    await audited(ctx, actor, 'node.shutdown', 'node', async () => ({ result: undefined }));
    setImmediate(() => ctx.requestShutdown());
    return { shutting_down: true };
  },
  getCluster: async ({ ctx }) => ctx.cluster(),
};
