import { z } from 'zod';
import { accessRoutes } from './control/access.ts';
import { alertRoutes } from './control/alerts.ts';
import { consoleRoutes } from './control/console.ts';
import { deploymentRoutes } from './control/deployments.ts';
import { nodeRoutes } from './control/node.ts';
import { probeRoutes } from './control/probes.ts';
import { driftRoutes } from './control/drift.ts';
import { rolloutRoutes } from './control/rollouts.ts';
import { route } from './control/route.ts';
import { runbookRoutes } from './control/runbooks.ts';
import { sloRoutes } from './control/slos.ts';

/**
 * The control API (/api/v1), every route of it, by operation id. The server implements exactly
 * these (serving/api/route-table.ts checks it when it loads), /api/v1/openapi.json describes
 * exactly these, and the console and the CLI call them through contract/control/client.ts.
 */
export const controlApi = {
  ...nodeRoutes,
  ...deploymentRoutes,
  ...rolloutRoutes,
  ...probeRoutes,
  ...driftRoutes,
  ...sloRoutes,
  ...alertRoutes,
  ...accessRoutes,
  ...runbookRoutes,
  ...consoleRoutes,
  getOpenApi: route({
    method: 'GET',
    path: '/api/v1/openapi.json',
    access: 'public',
    tag: 'node',
    summary: 'This document: the control API as OpenAPI 3.1',
    status: 200,
    response: z.record(z.string(), z.unknown()),
  }),
};

export type ControlApi = typeof controlApi;
export type OperationId = keyof ControlApi;
