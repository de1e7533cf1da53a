import { type CallInput, prepareCall, readAnswer } from '../contract/control/client.ts';
import { type ControlApi, controlApi, type OperationId } from '../contract/control-api.ts';
import type { ResponseOf } from '../contract/control/route.ts';

/** No node answered at the URL: commands that can also work on the database directly fall back. */
export class NodeUnreachable extends Error {}

/**
 * Calls a running node's control API for a CLI command: the same contract and the same answer
 * reading as the console (contract/control/client.ts). A refusal becomes an Error with vigil's
 * message and stable code, e.g. `a rollout is in progress (VIGIL_ERR_ROLLOUT_ACTIVE)`.
 */
export async function callNode<K extends OperationId>(
  url: string,
  bearer: string | undefined,
  operation: K,
  input: CallInput<ControlApi[K]>,
): Promise<ResponseOf<ControlApi[K]>> {
  const spec = controlApi[operation];
  const call = prepareCall(spec, input);
  let res: Response;
  try {
    res = await fetch(new URL(call.path, url), {
      method: call.method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: call.body,
    });
  } catch (err) {
    const why = (err as Error).cause ?? (err as Error).message;
    throw new NodeUnreachable(`cannot reach vigil at ${url}: ${String(why)}`);
  }
  const answer = readAnswer(spec, res, await res.text());
  if (!answer.ok) throw new Error(`${answer.message} (${answer.error})`);
  return answer.data;
}
