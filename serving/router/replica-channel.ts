import { EventEmitter } from 'node:events';
import { VigilError } from '../errors.ts';
import type {
  CallMessage,
  CallResultMessage,
  ChunkAckMessage,
  CancelMessage,
  InferMessage,
  ReplicaToPrimary,
  ResultMessage,
} from '../transport/messages.ts';
import { isReplicaMessage } from '../transport/messages.ts';
import { connectToReplica, isLocalReplica, type FrameMessage, type ReplicaLink } from '../transport/replica-socket.ts';
import type { ReplicaState } from '../controller/replica-handle.ts';
import { LoadedModels } from './loaded-models.ts';

/** Receives a streamed chunk; calls `ack` once the client has taken it (that is the backpressure). */
export type StreamSink = (data: unknown, ack: () => void) => void;

/** A streamed answer's destination: its chunks, and `onCancel`, which registers what runs if the client leaves. */
export interface StreamTarget {
  onChunk: StreamSink;
  onCancel?: (cancel: () => void) => void;
}

interface Pending {
  resolve(result: ResultMessage): void;
  reject(err: VigilError): void;
  onChunk?: StreamSink;
}

/**
 * Request ids start at a random multiple of 2^32 in each ingress process, so the ids of every
 * ingress process that talks to one replica are distinct and the replica keeps one table.
 */
let nextRequestId = (Math.floor(Math.random() * 0x1fffff) + 1) * 2 ** 32;

/**
 * One ingress process's connection to one replica: the requests it sent there and their
 * answers. The replica's state (STARTING, RUNNING, DRAINING) is the controller's, applied from
 * its snapshots; the channel never decides it. Each request id is settled exactly once, and when
 * the connection closes (the replica died, or was stopped) every pending request fails fast with
 * VIGIL_ERR_REPLICA_LOST, so nothing hangs on a dead replica.
 */
export class ReplicaChannel extends EventEmitter<{
  ready: [];
  settled: [];
  stopped: [];
  call: [CallMessage];
}> {
  state: ReplicaState = 'STARTING';
  /** This process's requests sent and not yet answered: the load figure its router balances on. */
  ongoing = 0;
  /** This process's requests ever sent to the replica, and answered successfully. */
  sent = 0;
  succeeded = 0;
  slot = 0;
  /**
   * The replica is full. A replica in this process is asked directly (ReplicaLink.hasRoom), so
   * its own router refills a slot the moment one frees. Any other says so, or refused a request,
   * and sends vigil:capacity once it has room.
   */
  get saturated(): boolean {
    const hasRoom = this.link?.hasRoom;
    return hasRoom ? !hasRoom() : this.saidFull;
  }

  private saidFull = false;
  /** The replica holds no request from any process (it says so on each change). */
  idle = true;
  /** A multiplexed replica's models as the controller last reported them, plus the ones just sent to it. */
  readonly loadedModels = new LoadedModels();
  private readonly pending = new Map<number, Pending>();
  private link: ReplicaLink | undefined;
  private connecting = false;

  /** The replica runs in this process (direct ingress): its requests are function calls. */
  readonly local: boolean;

  constructor(
    readonly id: string,
    readonly socketPath: string,
  ) {
    super();
    this.local = isLocalReplica(socketPath);
  }

  /** Applies the controller's view; a replica becomes routable once RUNNING and connected. */
  setState(state: ReplicaState): void {
    if (this.state === 'STOPPED') return;
    if (state === 'STOPPED') return this.close();
    const was = this.state;
    this.state = state === 'RUNNING' && !this.link ? 'STARTING' : state;
    if (state === 'RUNNING' && !this.link) this.connect();
    if (was !== 'RUNNING' && this.state === 'RUNNING') this.emit('ready');
  }

  private connect(): void {
    if (this.connecting) return;
    this.connecting = true;
    connectToReplica(this.socketPath).then(
      (link) => {
        this.connecting = false;
        if (this.state === 'STOPPED') return link.close();
        this.link = link;
        link.onMessage((msg) => {
          if (isReplicaMessage(msg)) this.onMessage(msg);
        });
        link.onClose(() => this.close());
        this.state = 'RUNNING';
        this.emit('ready');
      },
      () => {
        // The controller says RUNNING but the socket refused: the replica is dying. The
        // controller's next snapshot removes it; until then it takes no requests from here.
        this.connecting = false;
      },
    );
  }

  /** Sends a request; resolves with the replica's answer or rejects with a VigilError. */
  infer(payload: Omit<InferMessage, 'type' | 'id'>, stream?: StreamTarget): Promise<ResultMessage> {
    const link = this.link;
    if (this.state === 'STOPPED' || !link) return Promise.reject(new VigilError('VIGIL_ERR_REPLICA_LOST'));
    const id = nextRequestId++;
    this.ongoing++;
    this.sent++;
    // The client went away: tell the replica, so the handler's signal aborts and its stream stops.
    stream?.onCancel?.(() => {
      if (this.pending.has(id)) this.sendFrame({ type: 'vigil:cancel', id });
    });
    return new Promise<ResultMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onChunk: stream?.onChunk });
      link.send({ type: 'vigil:infer', id, ...payload } satisfies InferMessage as unknown as FrameMessage);
    });
  }

  /** Answers a handler's call to another deployment (see CallMessage). */
  replyCall(msg: CallResultMessage): void {
    this.sendFrame(msg);
  }

  private sendFrame(msg: CallResultMessage | ChunkAckMessage | CancelMessage): void {
    this.link?.send(msg as unknown as FrameMessage);
  }

  private onMessage(msg: ReplicaToPrimary): void {
    switch (msg.type) {
      case 'vigil:result': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.ongoing--;
        if (msg.ok) {
          this.succeeded++;
          p.resolve(msg);
        } else {
          if (msg.code === 'VIGIL_ERR_REPLICA_BUSY') this.saidFull = true;
          p.reject(new VigilError(msg.code, msg.detail));
        }
        this.emit('settled');
        return;
      }
      case 'vigil:capacity':
        this.saidFull = !msg.room;
        this.idle = msg.idle;
        if (msg.room) this.emit('settled');
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
    }
  }

  /** The replica is gone (or removed by the controller): what it held fails and may be retried elsewhere. */
  close(): void {
    if (this.state === 'STOPPED') return;
    this.state = 'STOPPED';
    this.link?.close();
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.ongoing = 0;
    for (const p of lost) p.reject(new VigilError('VIGIL_ERR_REPLICA_LOST'));
    this.emit('stopped');
    if (lost.length) this.emit('settled');
  }
}
