import type { Alert } from './api-types';

/** Severities in the order an on-call engineer reads them; unknown ones come after, by name. */
const SEVERITY_ORDER = ['page', 'critical', 'ticket', 'warning', 'info'];

function rank(severity: string): number {
  const i = SEVERITY_ORDER.indexOf(severity);
  return i === -1 ? SEVERITY_ORDER.length : i;
}

/** Alerts grouped by severity (page first); firing before pending, then oldest first. */
export function groupBySeverity(alerts: Alert[]): Array<{ severity: string; alerts: Alert[] }> {
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const g = groups.get(a.severity);
    if (g) g.push(a);
    else groups.set(a.severity, [a]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([severity, list]) => ({
      severity,
      alerts: list.sort((x, y) =>
        x.state === y.state ? x.startsAt.localeCompare(y.startsAt) : x.state === 'firing' ? -1 : 1,
      ),
    }));
}
