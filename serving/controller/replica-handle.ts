import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { VigilError } from '../errors.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';
import type {
  CallMessage,
  CallResultMessage,
  CancelMessage,
  ChunkAckMessage,
  InferMessage,
  ModelsMessage,
  ReadyMessage,
  ReplicaStats,
  ReplicaToPrimary,
  ResultMessage,
} from '../transport/messages.ts';
import { isReplicaMessage } from '../transport/messages.ts';
import type { ReplicaLink } from '../transport/replica-socket.ts';

export type ReplicaState = 'STARTING' | 'RUNNING' | 'DRAINING' | 'STOPPED';
export type StopReason =
  | 'crash'
  | 'health_check'
  | 'load_failed'
  | 'startup_timeout'
  | 'link_lost'
  | 'scale_down'
  | 'shutdown';

interface Pending {
  resolve(result: ResultMessage): void;
  reject(err: VigilError): void;
  onChunk?: StreamSink;
}

/** Receives a streamed chunk; calls `ack` once the client has taken it (that is the backpressure). */
export type StreamSink = (data: unknown, ack: () => void) => void;

/**
 * The primary's view of one replica process: its state, the requests it holds, and the IPC
 * request/response bookkeeping. Each request id is settled exactly once, and every pending
 * request fails fast (VIGIL_ERR_REPLICA_LOST) when the process exits, so nothing hangs on a dead
 * replica.
 */
export class ReplicaHandle extends EventEmitter<{
  ready: [ReadyMessage];
  'load-failed': [string];
  stopped: [StopReason];
  settled: [];
  call: [CallMessage];
  models: [ModelsMessage];
}> {
  state: ReplicaState = 'STARTING';
  readonly startedAt = performance.now();
  /** Requests sent and not yet answered: the load figure the router balances on. */
  ongoing = 0;
  /** Requests ever sent to this replica, and answered successfully. */
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
  private readonly pending = new Map<number, Pending>();
  private pingOutstanding: { id: number; sentAt: number } | undefined;
  private link: ReplicaLink | undefined;

  constructor(
    readonly id: string,
    readonly deployment: string,
    readonly version: string,
    readonly worker: Worker,
  ) {
    super();
    worker.on('message', (msg: unknown) => {
      if (isReplicaMessage(msg)) this.onMessage(msg);
    });
    worker.on('exit', () => this.onExit());
    // An IPC error (e.g. EPIPE while the process dies) is followed by 'exit'; nothing to do here.
    worker.on('error', () => {});
  }

  /** Tensor traffic moves to the replica's socket once it has connected. */
  attachLink(link: ReplicaLink): void {
    this.link = link;
    link.onMessage((msg) => {
      if (isReplicaMessage(msg)) this.onMessage(msg);
    });
    // Pings travel over IPC, so a replica whose tensor socket broke would still look healthy
    // while its requests time out: replace it instead.
    // A dying process closes its socket just before its exit event, so wait a moment: only a
    // replica that is still alive without its socket is 'link_lost'; a dead one is a crash.
    link.onClose(() => {
      setTimeout(() => {
        if (this.state === 'STARTING' || this.state === 'RUNNING') this.stop('link_lost');
      }, 500).unref();
    });
  }

  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  /** Sends a request; resolves with the replica's answer or rejects with a VigilError. */
  infer(
    payload: Omit<InferMessage, 'type' | 'id'>,
    stream?: { onChunk: StreamSink; signal?: AbortSignal },
  ): Promise<ResultMessage> {
    if (this.state === 'STOPPED') return Promise.reject(new VigilError('VIGIL_ERR_REPLICA_LOST'));
    const id = this.nextId++;
    this.ongoing++;
    this.sent++;
    // The client went away: tell the replica, so the handler's signal aborts and its stream stops.
    stream?.signal?.addEventListener(
      'abort',
      () => {
        if (this.pending.has(id)) this.sendFrame({ type: 'vigil:cancel', id });
      },
      { once: true },
    );
    return new Promise<ResultMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onChunk: stream?.onChunk });
      try {
        const msg = { type: 'vigil:infer', id, ...payload } satisfies InferMessage;
        if (this.link) this.link.send(msg as unknown as Record<string, unknown> & { type: string });
        else this.worker.send(msg);
      } catch {
        this.settle(id);
        reject(new VigilError('VIGIL_ERR_REPLICA_LOST'));
      }
    });
  }

  /** Answers a handler's call to another deployment (see CallMessage). */
  replyCall(msg: CallResultMessage): void {
    this.sendFrame(msg);
  }

  private sendFrame(msg: CallResultMessage | ChunkAckMessage | CancelMessage): void {
    if (this.state === 'STOPPED') return;
    try {
      if (this.link) this.link.send(msg as unknown as Record<string, unknown> & { type: string });
      else this.worker.send(msg);
    } catch {
      /* the replica is going away; what was in flight dies with it */
    }
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
      case 'vigil:result': {
        const p = this.settle(msg.id);
        if (!p) return;
        if (msg.ok) {
          this.succeeded++;
          p.resolve(msg);
        } else p.reject(new VigilError(msg.code, msg.message.replace(/^[^:]*: /, '')));
        this.emit('settled');
        return;
      }
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
      case 'vigil:chunk': {
        const p = this.pending.get(msg.id);
        if (!p?.onChunk) return;
        const { id, seq } = msg;
        p.onChunk(msg.data, () => this.sendFrame({ type: 'vigil:chunk-ack', id, seq }));
        return;
      }
      case 'vigil:call':
        this.emit('call', msg);
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

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      this.ongoing--;
    }
    return p;
  }

  private onExit(): void {
    if (this.state === 'STOPPED') return;
    this.state = 'STOPPED';
    this.link?.close();
    this.stopReason ??= 'crash';
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.ongoing = 0;
    for (const p of lost) p.reject(new VigilError('VIGIL_ERR_REPLICA_LOST'));
    this.emit('stopped', this.stopReason);
    if (lost.length) this.emit('settled');
  }
}
