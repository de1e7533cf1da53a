import type { Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { forkWorker } from '../controller/fork-worker.ts';
import type { Logger } from '../logger.ts';
import { FlushRounds } from './flush-rounds.ts';
import type { DeploymentRouter } from '../router/deployment-router.ts';
import type { IngressSpec, IngressToPrimary, PrimaryToIngress } from './ingress-messages.ts';
import { REPORT_INTERVAL_MS, type IngressReport, type VersionLoad } from './ingress-report.ts';
import { takeSnapshot } from './routing-snapshot.ts';

export interface IngressFleetOptions {
  count: number;
  /** `ingress.heap_floor_mb` for each process forked. */
  heapFloorMb: number;
  spec: IngressSpec;
  /** The controller's state, the only source of the snapshots. */
  router: DeploymentRouter;
  log: Logger;
  isReady(): boolean;
  isDraining(): boolean;
  /** Records what one report's requests measured (metrics, SLIs, canary windows, mirror). */
  onReport(report: IngressReport): void;
  onDemand(deployment: string, version: string): void;
}

interface Member {
  index: number;
  worker: Worker;
  /** A replica serving HTTP itself (direct ingress): the controller, not the fleet, replaces it. */
  replica: boolean;
  /** It takes connections on the port now. */
  listening: boolean;
  load: VersionLoad[];
  /** Requests it has accepted and not answered yet, as of its latest report. */
  accepted: number;
  drained?: (abandoned: number) => void;
  flushed: Map<number, () => void>;
}

/** How often the primary compares the routing state with what it last sent. */
const SNAPSHOT_CHECK_MS = 20;
/** The longest a control request waits for the ingress processes' latest measurements. */
const SETTLE_TIMEOUT_MS = 250;

/**
 * The primary's side of its ingress processes: forks `count` of them, keeps them supplied with
 * routing snapshots, replaces one that dies (its connections are reset, never left hanging), takes
 * their reports, and drains them at shutdown. The primary itself serves no HTTP but its control
 * socket, so nothing on its event loop (database, SLO engine, console queries) delays a request.
 */
export class IngressFleet {
  private readonly members = new Map<number, Member>();
  private lastSnapshot = '';
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private address: AddressInfo | undefined;
  private readonly listeners: ((a: AddressInfo) => void)[] = [];
  private recentDeaths: number[] = [];
  private flushIds = 0;
  /** Replica members are numbered apart from the dedicated processes (0..count-1). */
  private nextReplicaIndex = 1000;
  /** The dedicated processes were told to stand by (replicas serve the port). */
  private standby = false;

  constructor(private readonly o: IngressFleetOptions) {}

  /** Forks the ingress processes; resolves with the shared address once one listens. */
  start(): Promise<AddressInfo> {
    for (let i = 0; i < this.o.count; i++) this.fork(i);
    this.timer = setInterval(() => this.publish(), SNAPSHOT_CHECK_MS);
    this.timer.unref();
    return new Promise((resolve) => {
      if (this.address) resolve(this.address);
      else this.listeners.push(resolve);
    });
  }

  /** Dedicated ingress processes alive now (for status and tests). */
  get pids(): number[] {
    return [...this.members.values()].flatMap((m) =>
      !m.replica && m.worker.process.pid ? [m.worker.process.pid] : [],
    );
  }

  /**
   * Requests accepted on the port and not answered yet, over every process that takes HTTP, as of
   * their latest reports (a status read waits for a flush round, so they are fresh). It counts a
   * request from its first byte, including one still uploading its body or queued in a router.
   */
  get acceptedRequests(): number {
    let total = 0;
    for (const m of this.members.values()) total += m.accepted;
    return total;
  }

  /**
   * A replica that serves HTTP itself (direct ingress) joins the fleet: it gets the snapshots,
   * its reports are recorded, flushes and drains wait for it. It leaves when it exits.
   */
  attach(worker: Worker): void {
    const member: Member = {
      index: this.nextReplicaIndex++,
      worker,
      replica: true,
      listening: false,
      load: [],
      accepted: 0,
      flushed: new Map(),
    };
    this.members.set(member.index, member);
    worker.on('message', (msg: IngressToPrimary) => this.onMessage(member, msg));
    worker.on('exit', (code, signal) => this.onExit(member, code, signal));
  }

  /** Sends the routing state to every ingress process if it changed since the last send. */
  publish(force = false): void {
    const snapshot = takeSnapshot(this.o.router, this.o.isReady(), this.o.isDraining());
    const json = JSON.stringify(snapshot);
    if (!force && json === this.lastSnapshot) return;
    this.lastSnapshot = json;
    for (const m of this.members.values()) this.send(m, { type: 'vigil:snapshot', snapshot });
  }

  /**
   * Resolves once every ingress process has reported what it measured so far (or after
   * SETTLE_TIMEOUT_MS), so a scrape or console read made after a response arrived counts it.
   */
  settle(): Promise<void> {
    return this.flushRounds.settle();
  }

  /**
   * Rounds start at most one report interval apart: a scrape or console poll waits up to that
   * long for its round, and ten pollers cost each replica at most 20 flushes a second, not one per
   * read. At 5 ms apart the console's cost to inference p99 was about twice as high (decision
   * 0014's amendment has the figures).
   */
  private readonly flushRounds = new FlushRounds({
    round: () => this.flushRound(),
    minGapMs: REPORT_INTERVAL_MS,
    now: () => performance.now(),
    wait: (ms) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve))),
  });

  /** One flush round: every member reports what it measured so far (or SETTLE_TIMEOUT_MS passes). */
  private flushRound(): Promise<void> {
    const id = ++this.flushIds;
    return Promise.all(
      [...this.members.values()].map(
        (m) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(done, SETTLE_TIMEOUT_MS);
            function done(): void {
              clearTimeout(timer);
              m.flushed.delete(id);
              resolve();
            }
            m.flushed.set(id, done);
            this.send(m, { type: 'vigil:flush', id });
          }),
      ),
    ).then(() => undefined);
  }

  /**
   * Resolves once every ingress process routes by the controller's state as it is now (or after
   * SETTLE_TIMEOUT_MS). The flush asked for after the snapshot is answered after it: the IPC
   * channel keeps order and the ingress applies a snapshot as it arrives.
   */
  applied(): Promise<void> {
    this.publish();
    return this.settle();
  }

  /** Asks every ingress process to stop taking connections and finish what it accepted. */
  async drain(timeoutMs: number): Promise<number> {
    this.publish();
    const left = await Promise.all(
      [...this.members.values()].map(
        (m) =>
          new Promise<number>((resolve) => {
            const timer = setTimeout(() => resolve(0), timeoutMs + 2000);
            m.drained = (abandoned) => {
              clearTimeout(timer);
              resolve(abandoned);
            };
            this.send(m, { type: 'vigil:drain', timeoutMs });
          }),
      ),
    );
    return left.reduce((a, b) => a + b, 0);
  }

  /** Ends every ingress process (after a drain): their remaining connections close. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      [...this.members.values()].map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.worker.isDead()) return resolve();
            m.worker.once('exit', () => resolve());
            if (m.worker.isConnected()) m.worker.disconnect();
            setTimeout(() => m.worker.process.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
  }

  private fork(index: number): void {
    const worker = forkWorker(
      new URL('./ingress-main.ts', import.meta.url),
      { VIGIL_INGRESS_SPEC: JSON.stringify(this.o.spec) },
      { loadsTypeScript: false, heapFloorMb: this.o.heapFloorMb },
    );
    const member: Member = {
      index,
      worker,
      replica: false,
      listening: false,
      load: [],
      accepted: 0,
      flushed: new Map(),
    };
    this.members.set(index, member);
    worker.on('message', (msg: IngressToPrimary) => this.onMessage(member, msg));
    worker.on('error', () => {});
    worker.on('exit', (code, signal) => this.onExit(member, code, signal));
    this.o.log.info({ ingress: index, ingress_pid: worker.process.pid }, 'ingress process starting');
  }

  private onMessage(m: Member, msg: IngressToPrimary): void {
    switch (msg?.type) {
      case 'vigil:ingress-hello':
        if (!m.replica && this.standby) this.send(m, { type: 'vigil:standby', standby: true });
        this.send(m, {
          type: 'vigil:snapshot',
          snapshot: takeSnapshot(this.o.router, this.o.isReady(), this.o.isDraining()),
        });
        return;
      case 'vigil:ingress-listening':
        m.listening = true;
        this.chooseStandby();
        if (!this.address) {
          this.address = { address: msg.address, port: msg.port, family: msg.family };
          for (const l of this.listeners.splice(0)) l(this.address);
        }
        return;
      case 'vigil:ingress-closed':
        m.listening = false;
        this.chooseStandby();
        return;
      case 'vigil:ingress-report':
        this.addCounts(m.load, msg.load);
        m.load = msg.load;
        m.accepted = msg.inFlight;
        this.applyLoad();
        this.o.onReport(msg);
        return;
      case 'vigil:demand':
        this.o.onDemand(msg.deployment, msg.version);
        return;
      case 'vigil:flushed':
        m.flushed.get(msg.id)?.();
        return;
      case 'vigil:ingress-drained':
        m.drained?.(msg.abandoned);
        return;
    }
  }

  /**
   * Adds what an ingress process counted since its last report onto the primary's pools, so the
   * totals only grow, even when a process dies and its replacement counts from zero.
   */
  private addCounts(before: VersionLoad[], after: VersionLoad[]): void {
    for (const l of after) {
      const pool = this.o.router.deployments.get(l.deployment)?.pools.get(l.version);
      if (!pool) continue;
      const was = before.find((x) => x.deployment === l.deployment && x.version === l.version);
      pool.dispatched += l.dispatched - (was?.dispatched ?? 0);
      pool.refusals += l.refusals - (was?.refusals ?? 0);
    }
  }

  /** Sums the ingress processes' load onto the controller's pools and replicas. */
  private applyLoad(): void {
    for (const pool of this.o.router.pools()) {
      const perReplica = new Map<string, { ongoing: number; sent: number; succeeded: number }>();
      pool.ingressQueued.clear();
      for (const m of this.members.values()) {
        const l = m.load.find((x) => x.deployment === pool.name && x.version === pool.version);
        if (!l) continue;
        pool.ingressQueued.set(m.index, l.queued);
        for (const r of l.replicas) {
          const sum = perReplica.get(r.id) ?? { ongoing: 0, sent: 0, succeeded: 0 };
          sum.ongoing += r.ongoing;
          sum.sent += r.sent;
          sum.succeeded += r.succeeded;
          perReplica.set(r.id, sum);
        }
      }
      for (const r of pool.replicas) {
        const sum = perReplica.get(r.id);
        r.sent = sum?.sent ?? r.sent;
        r.succeeded = sum?.succeeded ?? r.succeeded;
        r.setOngoing(sum?.ongoing ?? 0);
      }
    }
  }

  /**
   * Direct ingress: the dedicated processes stand by while at least two replicas serve the port,
   * so connections land on replicas and are answered without a hop. Two, not one: node:cluster
   * closes a shared port when the last process holding it exits, so one replica's crash must
   * never leave the port to nobody; below two, the dedicated processes take connections again.
   */
  private chooseStandby(): void {
    let serving = 0;
    for (const m of this.members.values()) if (m.replica && m.listening) serving++;
    const standby = serving >= 2;
    if (standby === this.standby) return;
    this.standby = standby;
    for (const m of this.members.values()) if (!m.replica) this.send(m, { type: 'vigil:standby', standby });
  }

  private onExit(m: Member, code: number | null, signal: string | null): void {
    if (this.members.get(m.index) === m) this.members.delete(m.index);
    m.listening = false;
    this.chooseStandby();
    m.drained?.(0);
    for (const done of m.flushed.values()) done();
    if (this.stopping) return;
    // What it held is gone with its connections; its load no longer counts.
    m.load = [];
    this.applyLoad();
    if (m.replica) return;
    const now = performance.now();
    this.recentDeaths = this.recentDeaths.filter((t) => now - t < 60_000);
    this.recentDeaths.push(now);
    // Replaced at once; a process that keeps dying waits a little longer each time (up to 5 s).
    const delay = Math.min(5000, 100 * 2 ** (this.recentDeaths.length - 1));
    this.o.log.warn(
      { ingress: m.index, ingress_pid: m.worker.process.pid, code, signal, restart_in_ms: delay },
      'ingress process exited; it will be replaced',
    );
    setTimeout(() => {
      if (!this.stopping) this.fork(m.index);
    }, delay).unref();
  }

  private send(m: Member, msg: PrimaryToIngress): void {
    try {
      if (m.worker.isConnected()) m.worker.send(msg);
    } catch {
      /* it is exiting; its exit handler follows */
    }
  }
}
