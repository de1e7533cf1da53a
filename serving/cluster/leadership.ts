import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from '../../db/schema/index.ts';
import type { Db } from '../../db/client.ts';
import { claimNextEpoch, holdsEpoch } from '../../db/queries/leadership.ts';
import { VigilError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Who runs the singletons (the SLO engine's alerting, the rollout controller, the webhook
 * sender, the autoscaler's cluster decisions), and the fence that keeps a deposed leader from
 * writing. `fence(tx)` is called first inside every leader write's transaction: it is a
 * compare-and-set on the leadership row's epoch, so the transaction fails with
 * VIGIL_ERR_STALE_LEADER if another node has taken over since this one was elected.
 */
export interface Leadership {
  readonly isLeader: boolean;
  /** The epoch this node holds while leader; the last one it held otherwise (0: never). */
  readonly epoch: number;
  /** Leader writes refused by the fence so far (vigil_leader_fenced_writes_total). */
  readonly fencedWrites: number;
  fence(tx: Db): Promise<void>;
  /** Called on every change, after the new state is in place. */
  onChange(listener: (isLeader: boolean, epoch: number) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

abstract class BaseLeadership implements Leadership {
  isLeader = false;
  epoch = 0;
  fencedWrites = 0;
  private readonly listeners: ((isLeader: boolean, epoch: number) => void)[] = [];

  constructor(
    protected readonly db: Db,
    protected readonly instance: string,
    protected readonly log: Logger,
  ) {}

  async fence(tx: Db): Promise<void> {
    if (this.isLeader && (await holdsEpoch(tx, this.epoch, this.instance))) return;
    this.fencedWrites++;
    const wasLeader = this.isLeader;
    this.log.warn(
      { epoch: this.epoch, was_leader: wasLeader },
      'leader write refused: this node does not hold the current leadership epoch',
    );
    if (wasLeader) this.stepDown('a leader write found the epoch superseded');
    throw new VigilError('VIGIL_ERR_STALE_LEADER', `epoch ${this.epoch} of ${this.instance}`);
  }

  onChange(listener: (isLeader: boolean, epoch: number) => void): void {
    this.listeners.push(listener);
  }

  protected become(epoch: number): void {
    this.isLeader = true;
    this.epoch = epoch;
    this.log.info({ epoch, instance: this.instance }, 'this node is now the leader');
    this.emit();
  }

  protected stepDown(why: string): void {
    if (!this.isLeader) return;
    this.isLeader = false;
    this.log.warn({ epoch: this.epoch, why }, 'this node is no longer the leader');
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l(this.isLeader, this.epoch);
      } catch (err) {
        this.log.error({ err }, 'a leadership listener failed');
      }
    }
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/**
 * The embedded database belongs to one process, so that process is the leader. It still takes
 * an epoch, so that leader writes look the same on both databases.
 */
export class SoleLeadership extends BaseLeadership {
  async start(): Promise<void> {
    this.become(await claimNextEpoch(this.db, this.instance));
  }

  async stop(): Promise<void> {
    this.stepDown('shutting down');
  }
}

export interface ElectionOptions {
  url: string;
  db: Db;
  instance: string;
  log: Logger;
  /** How often a follower tries the lock and the leader renews (ms). */
  renewIntervalMs: number;
  /**
   * How long the leader's lock session may stay silent before Postgres ends it and another node
   * may take over (idle_session_timeout, ms). A paused leader is replaced after about this long.
   */
  leaseMs: number;
  /** Also the lock connection's application_name, so operators can find it in pg_stat_activity. */
  applicationName: string;
}

/** Key of the session advisory lock whose holder leads ("vgld" in ASCII). */
export const LEADER_LOCK_KEY = 0x76676c64;

/**
 * Leader election on Postgres with a session-level advisory lock on a connection of its own:
 * the lock lives exactly as long as that session, so a leader that dies (its socket closes) or
 * goes silent past the lease (Postgres's idle_session_timeout ends the session) releases it
 * without any cooperation. Whoever gets the lock takes the next epoch; the epoch, not the
 * lock, is what leader writes are checked against.
 *
 * Each tick, a follower tries the lock; the leader renews: first a compare-and-set on the
 * epoch (the write a woken-up stale leader makes first, and which fails), then a check that its
 * lock session is still the one holding the lock (postgres.js would silently reconnect a dropped
 * connection, and a new session holds nothing). The epoch is taken and renewed on the lock
 * session itself, not through the pool: a statement waiting there for a row lock keeps the
 * session busy, whereas a session left idle while the pool waits would be ended by the lease,
 * and with it the lock, under a leader that still believes it leads.
 */
export class PostgresLeaderElection extends BaseLeadership {
  private readonly lockClient: postgres.Sql;
  /** The lock session as a drizzle database, for the leadership queries. */
  private readonly lockDb: Db;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** When the last renewal succeeded (this process's clock). */
  private renewedAt = 0;
  private lockPid: number | undefined;
  private idleTimeoutSupported = true;
  private stopped = false;

  constructor(private readonly o: ElectionOptions) {
    super(o.db, o.instance, o.log);
    this.lockClient = postgres(o.url, {
      max: 1,
      // This connection must never be recycled behind our back: the lock lives on it.
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: o.applicationName },
    });
    this.lockDb = drizzle(this.lockClient, { schema }) as unknown as Db;
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.renewIntervalMs);
    this.timer.unref();
  }

  /** Steps down and gives the lock back at once, so another node need not wait for the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const was = this.isLeader;
    this.stepDown('shutting down');
    try {
      if (was) await this.lockClient`select pg_advisory_unlock_all()`;
    } catch {
      // The session is gone already, and its lock with it.
    }
    await this.lockClient.end({ timeout: 2 });
  }

  /**
   * A node that steps down for any reason other than a lost session may still hold the lock
   * (a failed renewal through the pool, say), and would keep every other node from taking over:
   * give it back. Session advisory locks stack, so unlock all of this session's.
   */
  protected override stepDown(why: string): void {
    if (!this.isLeader) return;
    super.stepDown(why);
    if (!this.stopped) void this.lockClient`select pg_advisory_unlock_all()`.catch(() => undefined);
  }

  /** The backend pid of the lock session while leader (tests end it with pg_terminate_backend). */
  get lockSessionPid(): number | undefined {
    return this.isLeader ? this.lockPid : undefined;
  }

  private async tick(): Promise<void> {
    // A renewal that hangs (a network partition) must not keep a leader that cannot prove it leads.
    if (this.busy && this.isLeader && Date.now() - this.renewedAt > this.o.leaseMs)
      this.stepDown(`no renewal for ${Math.round((Date.now() - this.renewedAt) / 1000)} s`);
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.isLeader) await this.renew();
      else await this.tryAcquire();
    } catch (err) {
      if (this.isLeader) this.stepDown(`the leader's database connection failed: ${(err as Error).message}`);
      else this.o.log.debug({ err }, 'could not try the leader lock; will retry');
    } finally {
      this.busy = false;
    }
  }

  private async tryAcquire(): Promise<void> {
    const rows = this.idleTimeoutSupported
      ? await this.tryLockWithLease()
      : await this.lockClient`select pg_try_advisory_lock(${LEADER_LOCK_KEY}) as locked, pg_backend_pid() as pid`;
    const row = rows[0] as { locked: boolean; pid: number };
    if (!row.locked) return;
    this.lockPid = row.pid;
    let epoch: number;
    try {
      epoch = await claimNextEpoch(this.lockDb, this.o.instance);
    } catch (err) {
      await this.lockClient`select pg_advisory_unlock(${LEADER_LOCK_KEY})`.catch(() => undefined);
      throw err;
    }
    if (this.stopped) return;
    this.renewedAt = Date.now();
    this.o.log.debug({ epoch, lock_session: this.lockPid }, 'took the leader lock');
    this.become(epoch);
  }

  /** Sets the lease on this very session and tries the lock, in one statement. */
  private async tryLockWithLease() {
    try {
      return await this
        .lockClient`select set_config('idle_session_timeout', ${String(this.o.leaseMs)}, false), pg_try_advisory_lock(${LEADER_LOCK_KEY}) as locked, pg_backend_pid() as pid`;
    } catch (err) {
      if ((err as { code?: string }).code !== '42704') throw err;
      // Postgres before 14 has no idle_session_timeout: a paused leader is then replaced only
      // when its TCP connection dies. Say so once.
      this.idleTimeoutSupported = false;
      this.o.log.warn(
        'this Postgres has no idle_session_timeout (it needs 14 or later): a paused leader keeps the lock until its connection dies',
      );
      return this.lockClient`select pg_try_advisory_lock(${LEADER_LOCK_KEY}) as locked, pg_backend_pid() as pid`;
    }
  }

  private async renew(): Promise<void> {
    const epoch = this.epoch;
    const still = await holdsEpoch(this.lockDb, epoch, this.o.instance);
    if (!this.isLeader || this.epoch !== epoch) return;
    if (!still) {
      this.fencedWrites++;
      this.o.log.warn({ epoch }, 'leader write refused: another node holds a newer leadership epoch');
      this.stepDown('the leadership epoch was superseded');
      return;
    }
    const [row] = await this.lockClient`select pg_backend_pid() as pid, exists(
        select 1 from pg_locks
        where locktype = 'advisory' and classid = 0 and objid = ${LEADER_LOCK_KEY} and objsubid = 1
          and pid = pg_backend_pid() and granted
      ) as held`;
    const { pid, held } = row as { pid: number; held: boolean };
    if (pid !== this.lockPid || !held)
      this.stepDown(`the lock session ${this.lockPid} is gone (now ${pid}, lock ${held ? 'held' : 'not held'})`);
    else this.renewedAt = Date.now();
  }
}
