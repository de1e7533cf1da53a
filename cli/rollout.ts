/** `vigil rollout ...` and `vigil weights set`: canary rollouts and traffic through the HTTP API. */

interface RolloutRow {
  id: number;
  deployment: string;
  status: string;
  stableVersion: string;
  canaryVersion: string;
  steps: number[];
  stepIndex: number;
  canaryWeight: number;
  intervalSeconds: number;
  reason: string | null;
}

interface LiveRollout {
  status: string;
  step: number;
  steps: number[];
  canary_weight: number;
  step_elapsed_seconds: number;
  interval_seconds: number;
  decision: { kind: string; reason: string } | null;
}

async function api(
  url: string,
  path: string,
  token: string | undefined,
  method = 'GET',
  body?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, url), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach vigil at ${url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text;
    try {
      const e = JSON.parse(text) as { error?: string; code?: string };
      detail = `${e.error ?? text}${e.code ? ` (${e.code})` : ''}`;
    } catch {
      /* not JSON */
    }
    throw new Error(detail);
  }
  return text ? JSON.parse(text) : null;
}

function describeRow(r: RolloutRow): string {
  const plan = `${r.steps.join(',')}, every ${r.intervalSeconds}s`;
  // Once a rollout has ended, "canary" and "stable" name what they were; say what is now.
  const state =
    r.status === 'Promoted'
      ? `${r.canaryVersion} is now stable (it was the canary; ${r.stableVersion} retired; steps ${plan})`
      : r.status === 'RolledBack' || r.status === 'Aborted'
        ? `${r.stableVersion} stays stable (canary ${r.canaryVersion} retired at step ` +
          `${r.stepIndex + 1}/${r.steps.length} of ${plan})`
        : `canary ${r.canaryVersion} at ${r.canaryWeight}% (step ${r.stepIndex + 1}/${r.steps.length} of ${plan}), ` +
          `stable ${r.stableVersion}`;
  return `rollout ${r.id} of ${r.deployment}: ${r.status}, ${state}${r.reason ? `\n  ${r.reason}` : ''}`;
}

export async function rolloutStartCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  version: string,
  steps: number[] | undefined,
  interval: string | undefined,
): Promise<void> {
  const row = (await api(url, `/api/v1/deployments/${encodeURIComponent(deployment)}/rollouts`, token, 'POST', {
    version,
    ...(steps ? { steps } : {}),
    ...(interval ? { interval } : {}),
  })) as RolloutRow;
  console.log(describeRow(row));
  console.log(`follow it with: vigil rollout status ${deployment}`);
}

export async function rolloutStatusCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  json: boolean,
): Promise<void> {
  const doc = (await api(url, `/api/v1/deployments/${encodeURIComponent(deployment)}/rollout`, token)) as {
    active: LiveRollout | null;
    latest: RolloutRow | null;
  };
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
    return;
  }
  if (!doc.latest) {
    console.log(`${deployment} has never had a rollout`);
    return;
  }
  console.log(describeRow(doc.latest));
  if (doc.active) {
    console.log(`  step time ${doc.active.step_elapsed_seconds}s of ${doc.active.interval_seconds}s`);
    console.log(
      `  last decision: ${doc.active.decision ? `${doc.active.decision.kind}: ${doc.active.decision.reason}` : 'none yet (the first analysis is due within seconds)'}`,
    );
  }
}

export async function rolloutActionCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  action: string,
): Promise<void> {
  const row = (await api(
    url,
    `/api/v1/deployments/${encodeURIComponent(deployment)}/rollout/${action}`,
    token,
    'POST',
  )) as RolloutRow;
  console.log(describeRow(row));
}

/** `vigil weights set cls v1=90 v2=10`: the order given is the split order. */
export async function weightsSetCommand(
  url: string,
  token: string | undefined,
  deployment: string,
  pairs: string[],
): Promise<void> {
  const weights: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([^=]+)=(\d+)$/.exec(p);
    if (!m) throw new Error(`expected VERSION=WEIGHT, got ${JSON.stringify(p)}`);
    weights[m[1]!] = Number(m[2]);
  }
  const doc = (await api(url, `/api/v1/deployments/${encodeURIComponent(deployment)}/weights`, token, 'PUT', {
    weights,
  })) as { split: { version: string; weight: number }[] };
  console.log(`${deployment}: ${doc.split.map((e) => `${e.version}=${e.weight}`).join(' ')}`);
}
