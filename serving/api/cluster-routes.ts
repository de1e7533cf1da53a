import { sendJson } from '../ingress/error-response.ts';
import type { Route } from './api-routes.ts';
import { authorize } from './auth.ts';

/** The nodes sharing this database, their health, and who leads (docs/cluster.md). */
export const clusterRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/cluster$/,
    template: '/api/v1/cluster',
    handler: async (req, res, ctx) => {
      await authorize(req, ctx.plane, 'viewer');
      sendJson(res, 200, await ctx.cluster());
    },
  },
];
