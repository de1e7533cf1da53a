/**
 * Process plumbing for the benchmark: spawn a server in its own process group, wait for its
 * "listening" log line and its readiness, account the CPU time of its whole process tree, and
 * stop it with SIGTERM (waiting for the exit). Also runs the short-lived child scripts (load
 * generator, bare ONNX Runtime loop, transport measurement) and parses their result line.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { staleServingSources } from '../serving/bundle.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RESULT_PREFIX = 'BENCH_RESULT ';
export const MARK_PREFIX = 'BENCH_MARK ';
const TSX = ['--import', 'tsx'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Prints a child script's result: one line that the parent picks out of stdout. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** Tells the parent that a phase starts or ends, right now. */
export function emitMark(mark: string): void {
  process.stdout.write(`${MARK_PREFIX}${mark}\n`);
}

/** Runs `node --import tsx script args...` to completion and returns its result line, parsed. */
export function runScript<T>(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  onMark?: (mark: string) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX, script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    scripts.add(child);
    child.on('exit', () => scripts.delete(child));
    hookCleanup();
    let out = '';
    let err = '';
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Marks ("BENCH_MARK start") let the parent sample a server's CPU time at phase boundaries.
      if (!onMark) return;
      const lines = out.split('\n');
      for (; seen < lines.length - 1; seen++)
        if (lines[seen]!.startsWith(MARK_PREFIX)) onMark(lines[seen]!.slice(MARK_PREFIX.length));
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
      else
        reject(
          new Error(
            `${script} ${args.join(' ')} exited with ${code ?? signal}\n${err.slice(-2000)}${out.slice(-1000)}`,
          ),
        );
    });
  });
}

/** CPU seconds (user + system) used so far by every live process of a process group. */
export function groupCpuSeconds(pgid: number): number {
  let total = 0;
  for (const v of groupCpuByPid(pgid).values()) total += v;
  return total;
}

/** CPU seconds (user + system) used so far by each live process of a process group, by pid. */
export function groupCpuByPid(pgid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue;
    out.set(Number(name), (Number(f[11]) + Number(f[12])) / CLK_TCK);
  }
  return out;
}
const CLK_TCK = 100;

/** Machine-wide CPU ticks from /proc/stat: busy, idle (incl. iowait) and steal, summed over all cores. */
export function machineTicks(): { busy: number; idle: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

export interface ServerSpec {
  name: string;
  /** Arguments after `node` (the tsx loader is the caller's business). */
  args: string[];
  port: number;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the server can take the full load (all replicas/workers up). */
  ready(port: number): Promise<boolean>;
}

export class RunningServer {
  private lines: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly spec: ServerSpec,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve((this.exitCode = code))));
    const keep = (d: Buffer) => {
      this.lines.push(...d.toString().split('\n').filter(Boolean));
      if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
    };
    // Always drain both pipes: a full pipe would block a server that logs synchronously.
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  log(): string {
    return this.lines.slice(-30).join('\n');
  }

  cpuSeconds(): number {
    return groupCpuSeconds(this.pid);
  }

  /**
   * CPU seconds of the leader (vigil's primary: the control plane), of vigil's ingress processes
   * (HTTP, parsing, admission, routing), and of the rest of the group (replicas, naive workers).
   */
  cpuSplit(): { leader: number; ingress: number; others: number } {
    let leader = 0;
    let ingress = 0;
    let others = 0;
    for (const [pid, s] of groupCpuByPid(this.pid)) {
      if (pid === this.pid) leader += s;
      else if (this.isIngress(pid)) ingress += s;
      else others += s;
    }
    return { leader, ingress, others };
  }

  private readonly ingressPids = new Map<number, boolean>();

  /** An ingress process runs serving/ingress/ingress-main.ts (its command line says so). */
  private isIngress(pid: number): boolean {
    let known = this.ingressPids.get(pid);
    if (known === undefined) {
      try {
        known = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ingress-main');
      } catch {
        known = false;
      }
      this.ingressPids.set(pid, known);
    }
    return known;
  }

  /** Waits for the "... listening on" line, then polls `ready`. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!this.lines.some((l) => l.includes('listening on'))) {
      if (!this.alive) throw new Error(`${this.spec.name} exited before listening:\n${this.log()}`);
      if (performance.now() > until)
        throw new Error(`${this.spec.name} did not log "listening on" in time:\n${this.log()}`);
      await sleep(50);
    }
    while (!(await this.spec.ready(this.spec.port).catch(() => false))) {
      if (!this.alive) throw new Error(`${this.spec.name} exited before it was ready:\n${this.log()}`);
      if (performance.now() > until) throw new Error(`${this.spec.name} was not ready in time:\n${this.log()}`);
      await sleep(100);
    }
  }

  /** SIGTERM, then wait for the exit; SIGKILL the whole group if it takes longer than `graceMs`. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; graceful: boolean; ms: number }> {
    const t0 = performance.now();
    if (!this.alive) return { code: this.exitCode ?? null, graceful: false, ms: 0 };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs))),
    ]);
    clearTimeout(timer);
    const ms = performance.now() - t0;
    let graceful = code !== 'timeout';
    if (!graceful) this.killGroup();
    // Workers/replicas (and tsx's esbuild service) share the group; they go within moments of
    // the leader. Whatever is left after 3 s is killed and the stop counts as unclean.
    const until = performance.now() + 3000;
    while (this.groupAlive() && performance.now() < until) await sleep(50);
    if (this.groupAlive()) {
      graceful = false;
      this.killGroup();
    }
    return { code: code === 'timeout' ? null : code, graceful, ms };
  }

  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

const live = new Set<RunningServer>();
const scripts = new Set<ChildProcess>();
let hooked = false;

/** If the benchmark is stopped, its servers (whole groups) and child scripts go with it. */
function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  const cleanup = () => {
    for (const s of live) s.killGroup();
    for (const c of scripts) c.kill('SIGKILL');
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`[bench] ${sig}: stopping the servers and load generators it started\n`);
      cleanup();
      process.exit(130);
    });
  }
}

/** Starts a server in its own process group, so that its workers can be accounted and cleaned up. */
export function startServer(spec: ServerSpec): RunningServer {
  hookCleanup();
  if (spec.args.some((a) => a.endsWith('bin/vigil.mjs'))) buildBundlesIfStale();
  // The servers get a clean slate: no VIGIL_* or OTEL_* settings leak in from the caller's shell.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('VIGIL_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS',
    ),
  );
  // The web console is a separate process that would compete for the same two cores: off.
  const child = spawn(process.execPath, spec.args, {
    cwd: ROOT,
    env: { ...base, VIGIL_CONSOLE: '0', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const server = new RunningServer(spec, child);
  live.add(server);
  child.on('exit', () => setTimeout(() => live.delete(server), 1000));
  return server;
}

/**
 * vigil forks its ingress and replica processes from dist/serving only while it is newer than
 * every source (serving/bundle.ts); after an edit they run through tsx instead. A benchmark
 * measures what `npm install` ships, so it builds the bundles again first (about a second).
 */
function buildBundlesIfStale(): void {
  const stale = staleServingSources();
  if (stale.length === 0) return;
  console.error(`[bench] dist/serving is older than ${stale.slice(0, 3).join(', ')}: building it again`);
  execFileSync(process.execPath, ['scripts/build-bundles.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

/** GET a path on 127.0.0.1; resolves with the status and body. */
export async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export { TSX };
