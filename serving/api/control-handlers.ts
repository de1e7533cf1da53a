import { controlApi } from '../../contract/control-api.ts';
import { SERVER_VERSION } from '../server-version.ts';
import { accessHandlers } from './access-routes.ts';
import { alertHandlers } from './alert-routes.ts';
import { consoleHandlers } from './console-routes.ts';
import { controlDocument } from './control-openapi.ts';
import { deploymentHandlers, rolloutHandlers } from './deployment-routes.ts';
import type { Handler, Handlers } from './handler.ts';
import { nodeHandlers } from './node-routes.ts';
import { probeHandlers } from './probe-routes.ts';
import { driftHandlers } from './drift-routes.ts';
import { RouteTable } from './route-table.ts';
import { runbookHandlers } from './runbook-routes.ts';
import { sloHandlers } from './slo-routes.ts';

/**
 * Every control-API handler, one per route of the contract: a route without a handler, or a
 * handler without a route, does not compile (and RouteTable refuses it at load).
 */
const handlers: Handlers<typeof controlApi> = {
  ...nodeHandlers,
  ...deploymentHandlers,
  ...rolloutHandlers,
  ...probeHandlers,
  ...driftHandlers,
  ...sloHandlers,
  ...alertHandlers,
  ...accessHandlers,
  ...runbookHandlers,
  ...consoleHandlers,
  getOpenApi: async () => openApi(),
};

export const controlRoutes = new RouteTable(controlApi, handlers as unknown as Record<string, Handler<never>>);

let document: Record<string, unknown> | undefined;
/** Built on first use: the routes do not change while the node runs. */
function openApi(): Record<string, unknown> {
  document ??= controlDocument(controlRoutes.specs, SERVER_VERSION);
  return document;
}
