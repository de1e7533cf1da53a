import type { Worker } from 'node:cluster';
import type { DeploymentConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { VersionPool } from '../router/version-pool.ts';
import type { ModelsMessage, ReplicaSpec } from '../transport/messages.ts';
import { replicaSocketPath } from '../transport/replica-socket.ts';
import { initialBackoff, inCrashLoop, recordFailure, recordSuccess, type BackoffState } from './restart-backoff.ts';
import { ReplicaHandle, type StopReason } from './replica-handle.ts';

export interface ControllerEvents {
  /** A multiplexed replica loaded or evicted a model. */
  onModels?(pool: VersionPool, replica: ReplicaHandle, msg: ModelsMessage): void;
  onReplicaStopped?(pool: VersionPool, replica: ReplicaHandle, reason: StopReason): void;
  onReplicaReady?(pool: VersionPool, replica: ReplicaHandle): void;
}

interface PoolState {
  pool: VersionPool;
  backoff: BackoffState;
  lastPing: number;
  restarts: number;
  lastError: string | undefined;
}

/**
 * Reconciles the replicas of every deployment version with their target count, about once a
 * second: starts missing replicas (with crash-loop back-off), replaces those that exit or fail
 * health checks, and times out replicas stuck in STARTING. A step's error is logged and the
 * loop goes on; the loop itself never dies.
 */
export class Controller {
  private readonly states: PoolState[];
  private timer: NodeJS.Timeout | undefined;
  private replicaSeq = 0;
  private stopping = false;

  constructor(
    pools: VersionPool[],
    private readonly log: Logger,
    private readonly spawn: (spec: ReplicaSpec) => Worker,
    private readonly events: ControllerEvents = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.states = pools.map((pool) => ({
      pool,
      backoff: initialBackoff,
      lastPing: now(),
      restarts: 0,
      lastError: undefined,
    }));
  }

  start(intervalMs = 1000): void {
    this.reconcile();
    this.timer = setInterval(() => this.reconcile(), intervalMs);
  }

  /** Status of one pool, for `vigil status` and the API. */
  describe(pool: VersionPool): { restarts: number; crashLoop: boolean; lastError: string | undefined } {
    const s = this.states.find((st) => st.pool === pool)!;
    return { restarts: s.restarts, crashLoop: inCrashLoop(s.backoff), lastError: s.lastError };
  }

  /**
   * An operator's restart: the replica drains like a scale-down (what it holds finishes) and the
   * next reconcile, which runs at once, starts its replacement. Not counted as a crash.
   */
  restart(pool: VersionPool, replica: ReplicaHandle): void {
    this.log.info({ replica: replica.id, deployment: pool.name, version: pool.version }, 'replica restart requested');
    if (replica.state === 'STARTING') replica.stop('scale_down');
    else replica.beginDrain(this.now());
    pool.pump();
    this.reconcile();
  }

  reconcile(): void {
    if (this.stopping) return;
    for (const state of this.states) {
      try {
        this.reconcilePool(state);
      } catch (err) {
        this.log.error({ err, deployment: state.pool.name }, 'reconcile step failed');
      }
    }
  }

  private reconcilePool(state: PoolState): void {
    const { pool } = state;
    const cfg = pool.deployment;
    const now = this.now();

    for (const r of pool.replicas) {
      if (r.state === 'STARTING' && now - r.startedAt > cfg.startup_timeout_s * 1000) {
        this.log.warn({ replica: r.id, deployment: pool.name }, 'replica did not become ready in time; replacing it');
        r.stop('startup_timeout');
      } else if (r.state === 'RUNNING' && r.silenceMs(now) > cfg.health_check_timeout_s * 1000) {
        this.log.warn(
          { replica: r.id, deployment: pool.name, silent_ms: Math.round(r.silenceMs(now)) },
          'replica failed its health check; replacing it',
        );
        r.stop('health_check');
      }
    }
    // Pings double as the stats feed for memory, CPU and lag metrics, hence at least every 2 s.
    if (now - state.lastPing >= Math.min(cfg.health_check_period_s, 2) * 1000) {
      state.lastPing = now;
      for (const r of pool.replicas) if (r.state === 'RUNNING') r.ping();
    }

    this.finishDrains(pool, now);
    const live = pool.live();
    const surplus = live.length - pool.targetReplicas;
    if (surplus > 0) this.scaleDown(pool, live, surplus);
    const missing = pool.targetReplicas - live.length;
    pool.replacementImminent = missing > 0 && state.backoff.notBefore - now < 2000;
    if (missing > 0 && now >= state.backoff.notBefore) {
      for (let i = 0; i < missing; i++) this.startReplica(state);
    }
  }

  /**
   * Takes `count` replicas out of rotation: starting ones first (they hold nothing), then the
   * least busy. They drain (no new requests; those they hold finish) and stop in finishDrains.
   */
  private scaleDown(pool: VersionPool, live: ReplicaHandle[], count: number): void {
    const order = [...live].sort((a, b) =>
      a.state === b.state ? a.ongoing - b.ongoing : a.state === 'STARTING' ? -1 : 1,
    );
    for (const r of order.slice(0, count)) {
      this.log.info(
        { replica: r.id, deployment: pool.name, version: pool.version, target: pool.targetReplicas },
        'replica draining (scale down)',
      );
      if (r.state === 'STARTING') r.stop('scale_down');
      else r.beginDrain(this.now());
    }
    pool.pump();
  }

  /**
   * Stops draining replicas once they hold nothing and their own ingress (direct ingress) holds
   * nothing either, or when graceful_shutdown_timeout_s runs out.
   */
  private finishDrains(pool: VersionPool, now: number): void {
    for (const r of pool.replicas) {
      if (r.state !== 'DRAINING' || r.drainStartedAt === undefined) continue;
      const overdue = now - r.drainStartedAt > pool.deployment.graceful_shutdown_timeout_s * 1000;
      if (r.idle || overdue) {
        if (overdue && !r.idle)
          this.log.warn({ replica: r.id, abandoned: r.ongoing + r.routing }, 'drain timed out with requests in flight');
        stopDrained(r);
      }
    }
  }

  private startReplica(state: PoolState): void {
    const { pool } = state;
    const cfg: DeploymentConfig = pool.deployment;
    const replicaId = `${cfg.name}-${pool.version}-${++this.replicaSeq}`;
    const spec: ReplicaSpec = {
      replicaId,
      deployment: cfg.name,
      version: pool.version,
      model: pool.model,
      handler: pool.handler,
      multiplex: cfg.multiplex && {
        modelsDir: cfg.multiplex.models_dir,
        maxModels: cfg.multiplex.max_models_per_replica,
      },
      executionProvider: cfg.execution_provider,
      intraOpThreads: cfg.intra_op_threads,
      maxBatchSize: cfg.batching.max_batch_size,
      batchWaitTimeoutMs: cfg.batching.batch_wait_timeout_ms,
      warmup: cfg.warmup,
      socketPath: replicaSocketPath(),
      maxOngoingRequests: cfg.max_ongoing_requests,
    };
    const replica = new ReplicaHandle(replicaId, cfg.name, pool.version, this.spawn(spec), spec.socketPath);
    pool.addReplica(replica);
    this.log.info(
      { replica: replicaId, deployment: cfg.name, version: pool.version, replica_pid: replica.pid },
      'replica starting',
    );
    replica.on('ready', (msg) => {
      state.backoff = recordSuccess();
      pool.describeModel(msg);
      this.events.onReplicaReady?.(pool, replica);
    });
    replica.on('models', (msg) => this.events.onModels?.(pool, replica, msg));
    replica.on('load-failed', (message) => {
      state.lastError = message;
    });
    replica.on('settled', () => {
      // A draining replica stops as soon as its last request is answered, not at the next tick.
      if (replica.state === 'DRAINING' && replica.idle && replica.drainStartedAt !== undefined) stopDrained(replica);
    });
    replica.on('stopped', (reason) => {
      if (this.stopping || reason === 'scale_down' || reason === 'shutdown') return;
      state.restarts++;
      state.backoff = recordFailure(state.backoff, this.now());
      this.log.warn(
        {
          replica: replicaId,
          deployment: cfg.name,
          reason,
          restarts: state.restarts,
          crash_loop: inCrashLoop(state.backoff),
        },
        'replica stopped; it will be replaced',
      );
      this.events.onReplicaStopped?.(pool, replica, reason);
      // Replace at once (or after the back-off) instead of waiting for the next tick.
      setImmediate(() => this.reconcile());
    });
  }

  /** Stops the loop and every replica: gracefully (they have been drained) or not. */
  async stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    const all = this.states.flatMap((s) => s.pool.replicas.filter((r) => r.state !== 'STOPPED'));
    await Promise.all(
      all.map(
        (r) =>
          new Promise<void>((resolve) => {
            r.once('stopped', () => resolve());
            r.stop('shutdown', graceful);
          }),
      ),
    );
  }
}

function stopDrained(replica: ReplicaHandle): void {
  replica.drainStartedAt = undefined;
  replica.stop('scale_down', true);
}
