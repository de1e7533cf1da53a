import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { ModelSignature } from '../protocol/model-metadata.ts';
import type { ModelsMessage, ReadyMessage, ReplicaStats, ReplicaToPrimary } from '../transport/messages.ts';
import { isReplicaMessage } from '../transport/messages.ts';
import type { IngressReport } from '../ingress/ingress-report.ts';

export type ReplicaState = 'STARTING' | 'RUNNING' | 'DRAINING' | 'STOPPED';
export type StopReason =
  | 'crash'
  | 'health_check'
  | 'load_failed'
  | 'startup_timeout'
  | 'link_lost'
  | 'scale_down'
  | 'shutdown';

/**
 * The controller's view of one replica process: its state, its health pings over IPC, and the
 * load the ingress processes report for it. Requests never pass through here: the ingress
 * processes send them over the replica's own socket (serving/router/replica-channel.ts).
 */
export class ReplicaHandle extends EventEmitter<{
  ready: [ReadyMessage];
  'load-failed': [string];
  stopped: [StopReason];
  settled: [];
  models: [ModelsMessage];
}> {
  state: ReplicaState = 'STARTING';
  readonly startedAt = performance.now();
  /** Requests it holds, summed over the ingress processes' latest reports. */
  ongoing = 0;
  /** Requests sent to it, and answered successfully, over its life: summed the same way. */
  sent = 0;
  succeeded = 0;
  provider = 'unknown';
  signature: ModelSignature | undefined;
  batchable = false;
  loadSeconds: number | undefined;
  stats: ReplicaStats | undefined;
  /** performance.now() of the last message from the replica: any message proves it is alive. */
  lastSeen = performance.now();
  stopReason: StopReason | undefined;
  /**
   * A multiplexed replica's loaded models, as it last reported them, plus the ones just sent to it
   * (it is loading those), so a burst for a cold model lands on one replica, not on all.
   */
  readonly loadedModels = new Set<string>();
  /** A small stable index within its pool (0..num_replicas-1), used as the metrics label. */
  slot = 0;

  private nextId = 1;
  private pingOutstanding: { id: number; sentAt: number } | undefined;

  constructor(
    readonly id: string,
    readonly deployment: string,
    readonly version: string,
    readonly worker: Worker,
    /** Where the replica listens for the ingress processes. */
    readonly socketPath: string,
  ) {
    super();
    worker.on('message', (msg: unknown) => {
      if (isIngressReport(msg)) this.setRouting(msg.inFlight, msg.connections);
      else if (isReplicaMessage(msg)) this.onMessage(msg);
    });
    worker.on('exit', () => this.onExit());
    // An IPC error (e.g. EPIPE while the process dies) is followed by 'exit'; nothing to do here.
    worker.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  /**
   * Direct ingress: inference requests this replica's own ingress accepted and has not answered
   * (wherever they run). A draining replica stops only once this is 0 too.
   */
  routing = 0;
  /** Direct ingress: client connections open to this replica's port. */
  connections = 0;

  private setRouting(requests: number, connections: number): void {
    this.lastSeen = performance.now();
    const fell = requests < this.routing || connections < this.connections;
    this.routing = requests;
    this.connections = connections;
    if (fell) this.emit('settled');
  }

  /**
   * Nothing left here: no request held by the replica, none accepted by its ingress, and no client
   * connection left open to it. A leaving replica answers each request with `connection: close`,
   * and clients close idle ones on their own keep-alive timeout (undici's: 4 s), so a drain waits
   * for them rather than cut one under a client writing on it; graceful_shutdown_timeout_s bounds it.
   */
  get idle(): boolean {
    return this.ongoing === 0 && this.routing === 0 && this.connections === 0;
  }

  /** The ingress processes' reports changed: a drop may let a draining replica stop. */
  setOngoing(n: number): void {
    const fell = n < this.ongoing;
    this.ongoing = n;
    if (fell) this.emit('settled');
  }

  /** Sends a health ping unless one is already outstanding. */
  ping(): void {
    if (this.pingOutstanding || this.state === 'STOPPED') return;
    const id = this.nextId++;
    this.pingOutstanding = { id, sentAt: performance.now() };
    try {
      this.worker.send({ type: 'vigil:ping', id });
    } catch {
      /* the exit handler will follow */
    }
  }

  /**
   * How long the replica has owed us an answer. A replica busy in a long blocking run answers
   * late but answers; only silence for longer than the health timeout means it is stuck.
   */
  silenceMs(now = performance.now()): number {
    if (!this.pingOutstanding && this.ongoing === 0) return 0;
    return now - this.lastSeen;
  }

  /** When scale-down took it out of rotation (controller clock); undefined unless draining for scale-down. */
  drainStartedAt: number | undefined;

  /** Out of rotation: the router sends nothing new; what it holds finishes, then the controller stops it. */
  beginDrain(now: number): void {
    if (this.state !== 'RUNNING') return;
    this.state = 'DRAINING';
    this.drainStartedAt = now;
  }

  /** Ends the process. `graceful` lets it finish (the caller has drained it first). */
  stop(reason: StopReason, graceful = false): void {
    if (this.state === 'STOPPED') return;
    this.stopReason ??= reason;
    if (graceful && this.worker.isConnected()) {
      // Told to finish and exit: the router no longer sends it anything.
      this.state = 'DRAINING';
      this.worker.disconnect();
      setTimeout(() => this.kill(), 2000).unref();
    } else {
      this.kill();
    }
  }

  private kill(): void {
    if (!this.worker.isDead()) this.worker.process.kill('SIGKILL');
  }

  private onMessage(msg: ReplicaToPrimary): void {
    this.lastSeen = performance.now();
    switch (msg.type) {
      case 'vigil:pong':
        if (this.pingOutstanding?.id === msg.id) this.pingOutstanding = undefined;
        this.stats = msg.stats;
        return;
      case 'vigil:ready':
        this.provider = msg.provider;
        this.signature = msg.signature;
        this.batchable = msg.batchable;
        this.loadSeconds = msg.loadSeconds;
        this.stats = msg.stats;
        if (this.state === 'STARTING') this.state = 'RUNNING';
        this.emit('ready', msg);
        return;
      case 'vigil:models':
        this.loadedModels.clear();
        for (const id of msg.loaded) this.loadedModels.add(id);
        this.emit('models', msg);
        return;
      case 'vigil:load-failed':
        this.stopReason ??= 'load_failed';
        this.emit('load-failed', msg.message);
        return;
    }
  }

  private onExit(): void {
    if (this.state === 'STOPPED') return;
    this.state = 'STOPPED';
    this.stopReason ??= 'crash';
    this.ongoing = 0;
    this.emit('stopped', this.stopReason);
  }
}

function isIngressReport(msg: unknown): msg is IngressReport {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'vigil:ingress-report';
}
