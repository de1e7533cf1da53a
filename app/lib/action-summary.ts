import type { RunbookAction } from './api-types';
import { ACTION_FIELDS, ACTION_LABELS, formatWeights } from './runbook-params';

/** "Scale a version: deployment cls, replicas asked when run": what an action step will do. */
export function describeAction(a: RunbookAction): string {
  const fields = ACTION_FIELDS[a.type].map((f) => {
    const v = a[f.key];
    const shown =
      v === undefined || v === null ? 'asked when run' : typeof v === 'object' ? formatWeights(v) : String(v);
    return `${f.label.toLowerCase()} ${shown}`;
  });
  return `${ACTION_LABELS[a.type]}: ${fields.join(', ')}`;
}
