import postgres from 'postgres';
import { parseStateNotice, STATE_CHANNEL, type StateNotice } from '../../db/queries/state-notify.ts';
import type { Logger } from '../logger.ts';

export interface StateListenerOptions {
  url: string;
  log: Logger;
  applicationName: string;
  onNotice(notice: StateNotice): void;
  /** Reloads the whole shared state; runs after every (re)subscription, before notices are trusted. */
  resync(): Promise<void>;
  /** How often the subscription is checked (and re-made after a loss), ms. */
  checkIntervalMs?: number;
}

/**
 * Delivers the `vigil_state` notifications of every node to this one, on a connection of its
 * own. NOTIFY is not queued for a session that is not listening, so a notice sent while this
 * node's connection was down is lost: every time the subscription is (re)made, the whole state
 * is reloaded before the node is marked in sync again. A lost connection is noticed either when
 * it closes or by the periodic check (`pg_listening_channels()` on the session, which also
 * catches a connection that postgres.js re-opened without the LISTEN), and re-made with retries
 * until the database is back. Serving goes on meanwhile with the state last applied.
 */
export class StateListener {
  private readonly client: postgres.Sql;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  /** True once subscribed and resynced; false from a loss until the next resync completes. */
  inSync = false;
  /** Completed resyncs after the first (losses recovered from). */
  resyncs = 0;

  constructor(private readonly o: StateListenerOptions) {
    const options = {
      max: 1,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: o.applicationName },
      // postgres.js's own listen() rides on this option; using it directly lets vigil see the
      // connection close and re-subscribe itself (listen() gives up if its reconnect fails once).
      onnotify: (channel: string, payload: string) => {
        if (channel !== STATE_CHANNEL) return;
        const notice = parseStateNotice(payload);
        if (notice) this.o.onNotice(notice);
      },
      onclose: () => {
        if (this.stopped || !this.inSync) return;
        this.inSync = false;
        this.o.log.warn(
          'lost the database connection that receives state changes; serving on with the last state, reconnecting',
        );
        setTimeout(() => void this.check(), 100).unref();
      },
    };
    // onnotify is missing from postgres.js's typings, though index.js reads it (listen() uses it).
    this.client = postgres(o.url, options as postgres.Options<Record<string, postgres.PostgresType>>);
  }

  /** Subscribes. The caller reloads the state once afterwards, for changes made before the subscription. */
  async start(): Promise<void> {
    await this.client`listen ${this.client.unsafe(`"${STATE_CHANNEL}"`)}`;
    this.inSync = true;
    this.timer = setInterval(() => void this.check(), this.o.checkIntervalMs ?? 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.client.end({ timeout: 2 });
  }

  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const [row] = await this
        .client`select exists(select 1 from pg_listening_channels() c where c = ${STATE_CHANNEL}) as listening`;
      if ((row as { listening: boolean }).listening && this.inSync) return;
      this.inSync = false;
      await this.client`listen ${this.client.unsafe(`"${STATE_CHANNEL}"`)}`;
      await this.o.resync();
      if (this.stopped) return;
      this.inSync = true;
      this.resyncs++;
      this.o.log.info({ resyncs: this.resyncs }, 'subscribed to state changes again; the whole state was reloaded');
    } catch (err) {
      if (this.inSync) this.o.log.warn({ err }, 'the state-change subscription failed; retrying');
      this.inSync = false;
      this.o.log.debug({ err }, 'could not subscribe to state changes yet; retrying');
    } finally {
      this.checking = false;
    }
  }
}
