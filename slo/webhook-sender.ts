import type { Db } from '../db/client.ts';
import { claimDueWebhooks, markDelivered, markFailed } from '../db/queries/outbox.ts';
import type { Logger } from '../serving/logger.ts';
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './alertmanager-payload.ts';

export const DELIVERY_HEADER = 'x-vigil-delivery';

/**
 * Exponential back-off with jitter: 1 s, 2 s, 4 s ... capped at 5 minutes, each drawn from
 * [50%, 100%] of that so that many queued notifications don't retry in lockstep.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempts));
  return Math.round(base * (0.5 + 0.5 * random()));
}

export interface WebhookSenderOptions {
  db: Db;
  log: Logger;
  /** HMAC secrets by receiver name; a receiver without one gets unsigned deliveries. */
  secrets: Record<string, string | undefined>;
  intervalMs?: number;
  timeoutMs?: number;
  /** Only the leader delivers (default: always); its claims are fenced. */
  isLeader?: () => boolean;
  fence?: (tx: Db) => Promise<void>;
  now?: () => number;
}

/**
 * Delivers the webhook outbox. A row is claimed with a lease (so two senders never post it at
 * once), posted, and marked delivered only after a 2xx; otherwise it is retried later with
 * back-off. Rows survive restarts, so no notification is lost while a receiver is down, and one
 * that a receiver acknowledged is never sent again. Each delivery carries its dedupe key in
 * x-vigil-delivery for receivers that want to be safe even against a crash between their 2xx
 * and vigil's write.
 */
export class WebhookSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly o: WebhookSenderOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => void this.deliverDue(), this.o.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over due rows; overlapping passes are skipped, and followers pass. */
  deliverDue(): Promise<void> {
    if (this.o.isLeader && !this.o.isLeader()) return Promise.resolve();
    this.running ??= this.pass()
      .catch((err) => {
        // A deposed leader's claim refused by the fence: expected once after a takeover.
        if ((err as { code?: string }).code === 'VIGIL_ERR_STALE_LEADER')
          this.o.log.warn({ err }, 'webhook delivery pass refused: this node is no longer the leader');
        else this.o.log.error({ err }, 'webhook delivery pass failed');
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const rows = await claimDueWebhooks(this.o.db, { now: new Date(this.now()), limit: 20, fence: this.o.fence });
    await Promise.all(
      rows.map(async (row) => {
        const body = JSON.stringify(row.payload);
        const timestamp = String(Math.floor(this.now() / 1000));
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          [DELIVERY_HEADER]: row.dedupeKey,
          [TIMESTAMP_HEADER]: timestamp,
        };
        const secret = this.o.secrets[row.receiver];
        if (secret) headers[SIGNATURE_HEADER] = signPayload(secret, timestamp, body);
        let error: string | undefined;
        try {
          const res = await fetch(row.url, {
            method: 'POST',
            headers,
            body,
            signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.status < 200 || res.status >= 300) error = `receiver answered ${res.status}`;
        } catch (err) {
          error = String((err as Error).cause ?? (err as Error).message ?? err).slice(0, 300);
        }
        if (!error) {
          await markDelivered(this.o.db, row.id, new Date(this.now()));
          this.o.log.info(
            { receiver: row.receiver, delivery: row.dedupeKey, attempts: row.attempts + 1 },
            'webhook delivered',
          );
        } else {
          const next = new Date(this.now() + retryDelayMs(row.attempts));
          await markFailed(this.o.db, row.id, { error, nextAttemptAt: next });
          this.o.log.warn(
            {
              receiver: row.receiver,
              delivery: row.dedupeKey,
              attempts: row.attempts + 1,
              error,
              retry_at: next.toISOString(),
            },
            'webhook delivery failed; will retry',
          );
        }
      }),
    );
  }
}
