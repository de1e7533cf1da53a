import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Alertmanager's webhook payload (version "4"), so that anything that already receives
 * Alertmanager notifications can receive vigil's, and the HMAC signature vigil adds.
 */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** Alertmanager's "not ended yet" timestamp for firing alerts. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function common(maps: Array<Record<string, string>>): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps;
  return Object.fromEntries(Object.entries(first!).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

/** One notification for a group of alerts that share `groupBy` labels (vigil sends one alert per group). */
export function buildWebhookPayload(
  receiver: string,
  externalURL: string,
  alerts: WebhookAlert[],
  groupBy: string[] = ['alertname', 'slo_id'],
): WebhookPayload {
  const commonLabels = common(alerts.map((a) => a.labels));
  const groupLabels = Object.fromEntries(groupBy.filter((k) => k in commonLabels).map((k) => [k, commonLabels[k]!]));
  const groupKey = `{}:{${Object.entries(groupLabels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels,
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
    alerts,
  };
}

export const SIGNATURE_HEADER = 'x-vigil-signature';
export const TIMESTAMP_HEADER = 'x-vigil-timestamp';

/**
 * `sha256=<hex HMAC of "<timestamp>.<body>">`: signing the timestamp with the body lets a
 * receiver reject replays of an old, validly signed delivery.
 */
export function signPayload(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
