import type { DriftObservation } from '../drift/drift-observer.ts';
import type { MirrorResult } from '../router/mirror.ts';
import type { OutputComparison } from '../router/output-agreement.ts';
import type { IngressRouter } from '../router/ingress-types.ts';
import {
  FinishedRequestColumns,
  type FinishedRequest,
  type FinishedRequests,
  type StreamObservation,
} from '../telemetry/finished-requests.ts';

/**
 * What an ingress process tells the primary, every REPORT_INTERVAL_MS: what each request it
 * answered measured (for /metrics, the SLIs, the canary analysis, the console's history and
 * traces), and the load it puts on each version and replica (for the autoscaler, status and
 * drains). The primary records each row once, in its one registry, so counts summed over
 * processes are exact. Nothing on the request path waits for the primary.
 */
export interface IngressReport {
  type: 'vigil:ingress-report';
  /** Every finished inference request, in columns per deployment version (metrics and SLIs). */
  finished: FinishedRequests[];
  streams: StreamObservation[];
  mirror: MirrorObservation[];
  /** Prediction drift sketches, once a second (serving/drift/drift-observer.ts). */
  drift: DriftObservation[];
  load: VersionLoad[];
  /**
   * Inference requests this process accepted and has not answered yet. A replica with direct
   * ingress is stopped only once this is 0 too: what it accepted may be held by another replica.
   */
  inFlight: number;
  /** Client connections open to this process: a replica leaving rotation waits for them to go. */
  connections: number;
}

export interface MirrorObservation {
  deployment: string;
  version: string;
  result: MirrorResult;
  comparison?: OutputComparison;
}

export interface VersionLoad {
  deployment: string;
  version: string;
  queued: number;
  dispatched: number;
  refusals: number;
  replicas: { id: string; ongoing: number; sent: number; succeeded: number }[];
}

/** A request for a version that has no replica and scales from zero: the autoscaler starts one. */
export interface DemandMessage {
  type: 'vigil:demand';
  deployment: string;
  version: string;
}

export const REPORT_INTERVAL_MS = 50;

/**
 * The ingress process's end: gathers observations and sends them in one message per interval
 * (at once when many have gathered), and the load only when it changed.
 */
export class ReportSender {
  private report = empty();
  private readonly finishedRows = new FinishedRequestColumns();
  private timer: NodeJS.Timeout | undefined;
  private lastLoad = '';

  constructor(
    private readonly router: IngressRouter,
    private readonly send: (msg: IngressReport) => void,
    private readonly inFlight: () => { requests: number; connections: number } = () => ({
      requests: 0,
      connections: 0,
    }),
  ) {}

  finished(r: FinishedRequest): void {
    this.finishedRows.add(r);
    this.soon();
  }

  observeStream(o: StreamObservation): void {
    this.report.streams.push(o);
    this.soon();
  }

  observeDrift(list: DriftObservation[]): void {
    this.report.drift.push(...list);
    this.soon();
  }

  observeMirror(o: MirrorObservation): void {
    this.report.mirror.push(o);
    this.soon();
  }

  /** The load changed (a request was queued, sent or answered): report it with the next batch. */
  loadChanged(): void {
    this.soon();
  }

  /** Sends what has gathered now (before a drain completes, so nothing is lost). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const load = this.load();
    const inFlight = this.inFlight();
    const loadKey = `${inFlight.requests} ${inFlight.connections} ${JSON.stringify(load)}`;
    const r = this.report;
    const rows = this.finishedRows.size;
    const nothing = rows + r.streams.length + r.mirror.length + r.drift.length === 0;
    if (nothing && loadKey === this.lastLoad) return;
    this.lastLoad = loadKey;
    r.load = load;
    r.inFlight = inFlight.requests;
    r.connections = inFlight.connections;
    if (rows > 0) r.finished = this.finishedRows.take();
    this.report = empty();
    this.send(r);
  }

  private soon(): void {
    if (this.finishedRows.size >= 512) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), REPORT_INTERVAL_MS);
  }

  private load(): VersionLoad[] {
    const out: VersionLoad[] = [];
    for (const pool of this.router.pools()) {
      out.push({
        deployment: pool.name,
        version: pool.version,
        queued: pool.queue.length,
        dispatched: pool.dispatched,
        refusals: pool.refusals,
        replicas: pool.replicas.map((r) => ({ id: r.id, ongoing: r.ongoing, sent: r.sent, succeeded: r.succeeded })),
      });
    }
    return out;
  }
}

function empty(): IngressReport {
  return {
    type: 'vigil:ingress-report',
    finished: [],
    streams: [],
    mirror: [],
    drift: [],
    load: [],
    inFlight: 0,
    connections: 0,
  };
}
