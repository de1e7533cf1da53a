import { clsInput, jsonInferBody } from './tensors.ts';

export interface LoadResult {
  status: number;
  version: string | null;
  fault: string | null;
}

/**
 * Closed-loop load: `concurrency` workers each send one cls request after another until stop()
 * is called. Every response is recorded, so a test can check what clients actually saw.
 */
export function startLoad(
  url: string,
  opts: { concurrency?: number; headers?: () => Record<string, string>; pauseMs?: number } = {},
) {
  const results: LoadResult[] = [];
  let running = true;
  const body = jsonInferBody(clsInput(7));
  const worker = async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/v2/models/cls/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...opts.headers?.() },
          body,
        });
        await res.arrayBuffer();
        results.push({
          status: res.status,
          version: res.headers.get('x-vigil-version'),
          fault: res.headers.get('x-vigil-fault'),
        });
      } catch {
        results.push({ status: 0, version: null, fault: null });
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 4 }, worker);
  return {
    results,
    async stop(): Promise<LoadResult[]> {
      running = false;
      await Promise.all(workers);
      return results;
    },
  };
}

/** GET a JSON document from the control API. */
export async function getJson<T = any>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function sendJsonTo(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
