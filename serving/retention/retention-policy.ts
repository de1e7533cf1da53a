import type { RetentionCutoffs } from '../../db/queries/retention.ts';
import type { RetentionConfig } from '../config/schema.ts';
import { parseDuration } from '../../slo/duration.ts';
import { LOGIN_WINDOW_MS } from '../api/login-limits.ts';

const DAY_MS = 86_400_000;

/** Login attempts outlive the limit window by a day, for an engineer looking into an attack. */
const LOGIN_ATTEMPTS_KEEP_MS = LOGIN_WINDOW_MS + DAY_MS;
/** Ended sessions (expired or revoked) are kept a month: "who was logged in when" questions. */
const ENDED_SESSIONS_KEEP_MS = 30 * DAY_MS;

/**
 * When each table's rows expire, as of `now`. SLI buckets are kept at least a day past the
 * longest SLO window, whatever the configuration says, so no error budget loses its history.
 */
export function retentionCutoffs(
  config: RetentionConfig,
  now: Date,
  longestSloWindowSeconds: number,
): RetentionCutoffs {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const sliKeepMs = Math.max(parseDuration(config.sli_buckets) * 1000, longestSloWindowSeconds * 1000 + DAY_MS);
  return {
    sliBuckets: ago(sliKeepMs),
    requestRollups: ago(parseDuration(config.request_rollups) * 1000),
    auditLog: ago(parseDuration(config.audit_log) * 1000),
    deliveredWebhooks: ago(parseDuration(config.delivered_webhooks) * 1000),
    finishedRollouts: ago(parseDuration(config.finished_rollouts) * 1000),
    loginAttempts: ago(LOGIN_ATTEMPTS_KEEP_MS),
    sessions: ago(ENDED_SESSIONS_KEEP_MS),
  };
}
