import type { RouteDocs } from '../handler/define.ts';
import type { ReplicaHandle, ReplicaState } from '../controller/replica-handle.ts';
import type { InferMessage } from '../transport/messages.ts';
import type { StreamSink, StreamTarget } from './replica-channel.ts';
import type { DeploymentConfig, VersionConfig } from '../config/schema.ts';
import { VigilError } from '../errors.ts';
import type { Tensor } from '../protocol/datatypes.ts';
import type { ModelSignature } from '../protocol/model-metadata.ts';
import type { ResultMessage } from '../transport/messages.ts';
import type { RequestMeta } from '../replica/runner.ts';
import { AdmissionQueue, type Waiter } from './admission-queue.ts';
import { DrainRate } from './drain-rate.ts';
import { chooseNearest } from './pow2.ts';

export interface InferCall {
  inputs: Tensor[];
  outputs?: string[];
  /** Epoch milliseconds. */
  deadline: number;
  /** A custom-route request for a handler (its body is the UINT8 input tensor `body`). */
  request?: RequestMeta;
  /** A multiplexed deployment's model for this request; replicas that hold it are preferred. */
  modelId?: string;
  /** Where a streaming handler's chunks go, and how to hear that the client left (it cancels). */
  stream?: StreamTarget;
  /** W3C trace context for the replica's spans, when the request is sampled. */
  traceparent?: string;
}

/**
 * What a pool needs of a replica to keep its list: the controller's ReplicaHandle (in the
 * primary) and the ingress's ReplicaChannel (in each ingress process) both are one.
 */
export interface PooledReplica {
  readonly id: string;
  state: ReplicaState;
  ongoing: number;
  slot: number;
  /** A multiplexed replica's models: `add` when a request for one is sent to it. */
  readonly loadedModels: { has(modelId: string): boolean; add(modelId: string): unknown };
  /** Direct ingress: the replica runs in this process; it is full; it is idle (see pow2.ts). */
  readonly local?: boolean;
  readonly saturated?: boolean;
  readonly idle?: boolean;
  on(event: 'ready' | 'settled' | 'stopped', listener: () => void): unknown;
}

/** A replica requests can be sent to: only an ingress process holds these. */
export interface RoutableReplica extends PooledReplica {
  infer(payload: Omit<InferMessage, 'type' | 'id'>, stream?: StreamTarget): Promise<ResultMessage>;
}

/** What the model a version serves looks like, as its first ready replica reported it. */
export interface ModelDescription {
  signature: ModelSignature | undefined;
  kind: 'model' | 'handler' | 'multiplex';
  provider: string;
  batchable: boolean;
  /** A handler's description of its own route (OpenAPI). */
  routeDocs?: RouteDocs;
}

export interface InferOutcome {
  result: ResultMessage;
  replica: RoutableReplica;
  /** Time spent waiting for a replica slot in the router's queue. */
  queueWaitMs: number;
  attempts: number;
}

/**
 * The replicas of one deployment version and the router logic in front of them: pick a replica
 * with power-of-two-choices under max_ongoing_requests, or wait in a bounded FIFO; shed load
 * with 503 + Retry-After past max_queued_requests; answer 504 when the deadline passes (a queued
 * request never reaches a replica then); and retry once on another replica when the one holding
 * the request dies, since inference is idempotent.
 */
export class VersionPool<R extends PooledReplica = ReplicaHandle> {
  readonly replicas: R[] = [];
  readonly queue: AdmissionQueue<R>;
  readonly drainRate = new DrainRate();
  /** The model's signature, from the first replica that became ready. */
  signature: ModelSignature | undefined;
  /** A handler's description of its own route, from the first replica that became ready. */
  routeDocs: RouteDocs | undefined;
  provider: string | undefined;
  batchable = false;
  /** 'handler' once a replica reports that a TypeScript handler answers (no signature check then). */
  kind: 'model' | 'handler' | 'multiplex' | undefined;
  /** Set by the controller while a replacement replica is due within a moment. */
  replacementImminent = false;
  /**
   * Requests a full replica refused (VIGIL_ERR_REPLICA_BUSY) and the router placed again, over
   * the pool's life. In the primary: the sum over every ingress process, dead ones included.
   */
  refusals = 0;
  /** Requests handed to a replica, over the pool's life (a retry counts twice); summed likewise. */
  dispatched = 0;
  /**
   * In the primary, which routes nothing itself: the requests each ingress process last reported
   * queued for this version; what replicas hold is on them.
   */
  readonly ingressQueued = new Map<number, number>();
  /** Fault injection in force for this version; the API can change it at run time. */
  fault: { errorRate: number; addedLatencyMs: number };
  /**
   * How many replicas the controller keeps: the configured count, the autoscaler's target, or 0
   * once the version is retired (rolled back, or replaced by a promoted canary).
   */
  targetReplicas: number;
  /** Replicas per node set by hand (scale), shared by every node; null: the configured count. */
  manualReplicas: number | null = null;
  /** Replicas per node the leader's autoscaler decided for the cluster (shared nodes only); null: none yet. */
  clusterAutoscaleTarget: number | null = null;
  /** A retired version keeps no replicas and takes no traffic until a rollout revives it. */
  retired = false;
  /** Set under autoscaling with min_replicas 0: a request may wait for a cold start. */
  scalesFromZero = false;
  /** Called when a request arrives while no replica runs or starts (the autoscaler scales from zero). */
  onDemand: (() => void) | undefined;
  /**
   * When this pool last asked for a cold start. In an ingress process the answer (a target above
   * zero) comes with a later snapshot from the primary, so a request waits for it meanwhile.
   */
  private demandedAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Requests waiting for the first replica to report the model's signature (a cold start from zero). */
  private signatureWaiters: (() => void)[] = [];

  constructor(
    readonly deployment: DeploymentConfig,
    readonly versionConfig: VersionConfig,
  ) {
    this.queue = new AdmissionQueue(deployment.max_queued_requests);
    this.fault = {
      errorRate: versionConfig.fault_injection.error_rate,
      addedLatencyMs: versionConfig.fault_injection.added_latency_ms,
    };
    this.targetReplicas = versionConfig.num_replicas;
  }

  get version(): string {
    return this.versionConfig.version;
  }

  get model(): string | undefined {
    return this.versionConfig.model;
  }

  get handler(): string | undefined {
    return this.versionConfig.handler;
  }

  /** What the version serves, for status and the stored state: its model file, its handler, or its models directory. */
  get artifact(): string {
    return this.versionConfig.model ?? this.versionConfig.handler ?? this.deployment.multiplex!.models_dir;
  }

  /** Replicas starting or running: what counts against the target. */
  live(): R[] {
    return this.replicas.filter((r) => r.state === 'STARTING' || r.state === 'RUNNING');
  }

  get name(): string {
    return this.deployment.name;
  }

  running(): R[] {
    return this.replicas.filter((r) => r.state === 'RUNNING');
  }

  /** Requests held by replicas plus requests queued, here and in every ingress process that reported. */
  get inFlight(): number {
    let n = this.queue.length;
    for (const r of this.replicas) n += r.ongoing;
    for (const q of this.ingressQueued.values()) n += q;
    return n;
  }

  /** Requests waiting for a replica slot, here and in every ingress process that reported. */
  get queued(): number {
    let n = this.queue.length;
    for (const q of this.ingressQueued.values()) n += q;
    return n;
  }

  /** A replica reported the model: requests waiting for the signature (a cold start) go on. */
  describeModel(d: ModelDescription): void {
    this.signature ??= d.signature;
    this.kind = d.kind;
    this.provider = d.provider;
    this.batchable = d.batchable;
    this.routeDocs = d.routeDocs;
    for (const wake of this.signatureWaiters.splice(0)) wake();
    this.pump();
  }

  addReplica(replica: R): void {
    const taken = new Set(this.replicas.map((r) => r.slot));
    while (taken.has(replica.slot)) replica.slot++;
    this.replicas.push(replica);
    replica.on('ready', () => this.pump());
    replica.on('settled', () => this.pump());
    replica.on('stopped', () => {
      const i = this.replicas.indexOf(replica);
      if (i >= 0) this.replicas.splice(i, 1);
      this.pump();
    });
  }

  /**
   * The model's signature, waiting (within the deadline) for a cold start when the version has
   * scaled to zero and no replica ever loaded it: the request is validated, not refused.
   */
  async ensureSignature(deadline: number): Promise<ModelSignature> {
    if (this.signature) return this.signature;
    // Only a cold start from zero waits; otherwise (replicas still loading, or failing to load)
    // the answer is a fast 503, as before the first replica is ready.
    if (!this.scalesFromZero || this.retired)
      throw new VigilError('VIGIL_ERR_NOT_READY', `"${this.name}" has not loaded its model yet`);
    if (this.live().length === 0) this.demand();
    if (!this.hasHope())
      throw new VigilError(
        'VIGIL_ERR_NOT_READY',
        `deployment "${this.name}" version "${this.version}" has not loaded its model`,
      );
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          this.signatureWaiters = this.signatureWaiters.filter((w) => w !== wake);
          reject(new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', 'expired waiting for a replica to start'));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.signatureWaiters.push(wake);
    });
    return this.signature!;
  }

  /** Stops admitting; queued requests fail with 503. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.drain()) (w as QueuedCall).fail(new VigilError('VIGIL_ERR_SHUTTING_DOWN'));
  }

  /** Admits one request; only an ingress process, whose pools hold routable replicas, calls this. */
  infer(this: VersionPool<RoutableReplica>, call: InferCall): Promise<InferOutcome> {
    return new Promise<InferOutcome>((resolve, reject) => {
      const enqueuedAt = performance.now();
      let done = false;
      let attempts = 0;
      let waiter: QueuedCall | undefined;

      const finish = (err: VigilError | undefined, outcome?: InferOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(outcome!);
      };

      // A stream that has delivered a chunk cannot be retried elsewhere: the client has it.
      let streamed = false;
      const stream = call.stream && {
        onCancel: call.stream.onCancel,
        onChunk: ((data, ack) => {
          streamed = true;
          call.stream!.onChunk(data, ack);
        }) satisfies StreamSink,
      };

      const send = (replica: RoutableReplica): void => {
        waiter = undefined;
        if (call.modelId !== undefined) replica.loadedModels.add(call.modelId);
        attempts++;
        this.dispatched++;
        const queueWaitMs = performance.now() - enqueuedAt;
        replica
          .infer(
            {
              inputs: call.inputs,
              outputs: call.outputs,
              deadline: call.deadline,
              traceparent: call.traceparent,
              request: call.request,
              modelId: call.modelId,
            },
            stream,
          )
          .then(
            (result) => {
              this.drainRate.record();
              finish(undefined, { result, replica, queueWaitMs, attempts });
            },
            (err: VigilError) => {
              // Full with other ingress processes' requests: it ran nothing, so this was no
              // attempt. The replica is skipped until it says it has room; admit() routes
              // elsewhere or queues (pow-2 never picks a saturated replica, so this cannot loop).
              if (!done && err.code === 'VIGIL_ERR_REPLICA_BUSY') {
                attempts--;
                this.dispatched--;
                this.refusals++;
                return admit();
              }
              if (
                !done &&
                err.code === 'VIGIL_ERR_REPLICA_LOST' &&
                attempts === 1 &&
                !streamed &&
                Date.now() < call.deadline
              )
                admit();
              else finish(err);
            },
          );
      };

      const admit = (): void => {
        if (this.closed) return finish(new VigilError('VIGIL_ERR_SHUTTING_DOWN'));
        const replica = this.queue.length === 0 ? this.choose(call.modelId) : undefined;
        if (replica) return send(replica);
        if (!this.hasHope() && this.scalesFromZero && !this.retired) this.demand();
        if (!this.hasHope())
          return finish(
            new VigilError(
              'VIGIL_ERR_NOT_READY',
              `deployment "${this.name}" version "${this.version}" has no running or starting replica`,
            ),
          );
        if (this.queue.full) {
          const retryAfter = this.drainRate.retryAfterSeconds(this.queue.length + 1);
          return finish(
            new VigilError('VIGIL_ERR_OVERLOADED', `${this.queue.length} requests already queued`, {
              'retry-after': String(retryAfter),
            }),
          );
        }
        waiter = { cancelled: false, grant: send, fail: (err) => finish(err), modelId: call.modelId };
        this.queue.push(waiter);
      };

      const timer = setTimeout(
        () => {
          if (waiter) this.queue.cancel(waiter);
          finish(
            new VigilError('VIGIL_ERR_DEADLINE_EXCEEDED', waiter ? 'expired while queued' : 'expired while running'),
          );
        },
        Math.max(0, call.deadline - Date.now()),
      );

      admit();
    });
  }

  /**
   * A replica with room: for a multiplexed model, one that already holds it when one has room
   * (a load costs far more than a short wait would save), else any, by power of two choices.
   */
  private choose(modelId: string | undefined): R | undefined {
    const running = this.replicas.filter(isRunning);
    if (modelId !== undefined) {
      const warm = chooseNearest(
        running.filter((r) => r.loadedModels.has(modelId)),
        this.deployment.max_ongoing_requests,
      );
      if (warm) return warm;
    }
    return chooseNearest(running, this.deployment.max_ongoing_requests);
  }

  /** Hands free replica slots to queued requests, oldest first. */
  pump(): void {
    while (this.queue.length > 0) {
      const replica = this.choose((this.queue.peek() as QueuedCall | undefined)?.modelId);
      if (!replica) return;
      const w = this.queue.shift();
      if (!w) return;
      // grant() sends synchronously, so replica.ongoing is up to date for the next choice.
      w.grant(replica);
    }
  }

  /**
   * True while some replica is running or on its way up, or the controller is about to replace
   * one: then a request waits within its deadline instead of failing, since a restart usually
   * takes well under a deadline. In a crash loop with a long back-off it fails fast instead.
   */
  private hasHope(): boolean {
    return (
      this.replacementImminent ||
      this.replicas.some((r) => r.state === 'RUNNING' || r.state === 'STARTING') ||
      (this.scalesFromZero &&
        !this.retired &&
        (this.targetReplicas > 0 || performance.now() - this.demandedAt < DEMAND_ANSWER_MS))
    );
  }

  private demand(): void {
    this.demandedAt = performance.now();
    this.onDemand?.();
  }
}

/** How long a request waits for the controller to answer a demand with a target above zero. */
const DEMAND_ANSWER_MS = 5000;

interface QueuedCall extends Waiter<PooledReplica> {
  fail(err: VigilError): void;
  modelId?: string;
}

const isRunning = (r: PooledReplica): boolean => r.state === 'RUNNING';
