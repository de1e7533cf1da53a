import type { RunbookAction, RunbookActionType } from './api-types';

/** A field of an action that a step may leave out, to be given when it runs. */
export interface ParamField {
  key: 'deployment' | 'version' | 'weights' | 'replicas' | 'replica' | 'duration' | 'fingerprint';
  label: string;
  required: boolean;
  placeholder?: string;
}

const deployment: ParamField = { key: 'deployment', label: 'Deployment', required: true, placeholder: 'cls' };

/** Which fields each action type takes, as the server's action runner reads them. */
export const ACTION_FIELDS: Record<RunbookActionType, ParamField[]> = {
  rollback_rollout: [deployment],
  pause_rollout: [deployment],
  resume_rollout: [deployment],
  set_weight: [deployment, { key: 'weights', label: 'Weights', required: true, placeholder: 'v1=90, v2=10' }],
  scale: [
    deployment,
    { key: 'version', label: 'Version', required: false, placeholder: 'the main version' },
    { key: 'replicas', label: 'Replicas', required: true, placeholder: '2' },
  ],
  restart_replica: [
    deployment,
    { key: 'version', label: 'Version', required: false, placeholder: 'the main version' },
    { key: 'replica', label: 'Replica id', required: false, placeholder: 'the first running one' },
  ],
  silence_alert: [
    { key: 'fingerprint', label: 'Alert fingerprint', required: true },
    { key: 'duration', label: 'Duration', required: false, placeholder: '1h' },
  ],
};

export const ACTION_LABELS: Record<RunbookActionType, string> = {
  rollback_rollout: 'Roll back the rollout',
  pause_rollout: 'Pause the rollout',
  resume_rollout: 'Resume the rollout',
  set_weight: 'Set traffic weights',
  scale: 'Scale a version',
  restart_replica: 'Restart a replica',
  silence_alert: 'Silence an alert',
};

/** "v1=90, v2=10" → {v1: 90, v2: 10}; null when it does not read as that. */
function parseWeights(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  const pairs = text.split(/[,\s]+/).filter(Boolean);
  if (pairs.length === 0) return null;
  for (const pair of pairs) {
    const m = /^([^=]+)=(\d+)$/.exec(pair);
    if (!m) return null;
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function formatWeights(w: Record<string, number>): string {
  return Object.entries(w)
    .map(([v, n]) => `${v}=${n}`)
    .join(', ');
}

/**
 * Turns the text of the inputs into action fields. Empty inputs are left out (the server then
 * uses its default or says what is missing); a value that does not parse is reported.
 */
export function toParams(
  fields: ParamField[],
  values: Record<string, string>,
): { params: Partial<RunbookAction>; problem: string | null } {
  const params: Partial<RunbookAction> = {};
  for (const f of fields) {
    const raw = (values[f.key] ?? '').trim();
    if (!raw) {
      if (f.required) return { params, problem: `${f.label} is needed` };
      continue;
    }
    if (f.key === 'weights') {
      const w = parseWeights(raw);
      if (!w) return { params, problem: 'Weights: write them as v1=90, v2=10' };
      params.weights = w;
    } else if (f.key === 'replicas') {
      if (!/^\d+$/.test(raw)) return { params, problem: 'Replicas: a whole number' };
      params.replicas = Number(raw);
    } else {
      params[f.key] = raw;
    }
  }
  return { params, problem: null };
}

/** The fields a stored action leaves out: those are asked for when the step runs. */
export function missingFields(action: RunbookAction): ParamField[] {
  return ACTION_FIELDS[action.type].filter((f) => action[f.key] === undefined || action[f.key] === null);
}
