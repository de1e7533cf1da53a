import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConsoleConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { portUnavailable } from '../port-check.ts';

/** The repository (or installed package) root: where next.config.ts and app/ live. */
const ROOT = resolve(import.meta.dirname, '../..');
/** Next.js behind the layer that sets the browser's address and the security headers. */
const SERVER_SCRIPT = join(import.meta.dirname, 'console-server.mjs');
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
const BUILD_DIR = join(ROOT, '.next');
const HASH_FILE = join(BUILD_DIR, 'vigil-source-hash');
const LOCK_DIR = join(ROOT, '.next-build.lock');

/** A hash of everything the console build depends on, so a stale build is rebuilt, and a fresh one is not. */
export function consoleSourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name === 'node_modules' || name.endsWith('.tsbuildinfo') || name === 'next-env.d.ts') continue;
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p.slice(ROOT.length)).update(readFileSync(p));
    }
  };
  walk(join(ROOT, 'app'));
  for (const f of ['next.config.ts', 'package-lock.json'])
    if (existsSync(join(ROOT, f))) h.update(f).update(readFileSync(join(ROOT, f)));
  return h.digest('hex');
}

function run(args: string[], log: Logger, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code) => {
      if (code !== 0) log.error({ output: lines.slice(-30).join('\n') }, 'console build failed');
      res(code ?? 1);
    });
  });
}

/**
 * Builds the console when its sources changed since the last build (the first start takes a
 * few tens of seconds; later starts reuse .next/). One build at a time per checkout: a second
 * vigil starting meanwhile waits for the first one's build.
 */
export async function ensureBuilt(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const hash = consoleSourceHash();
  const fresh = () =>
    existsSync(join(BUILD_DIR, 'BUILD_ID')) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, 'utf8') === hash;
  if (fresh()) return true;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      // A lock older than the deadline was left by a build that died; take it over.
      if (Date.now() > deadline || Date.now() - statSync(LOCK_DIR, { throwIfNoEntry: false })!.mtimeMs > 10 * 60_000) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
      if (fresh()) return true;
    }
  }
  try {
    if (fresh()) return true;
    log.info('building the web console (only when its sources changed; this takes a little while)');
    const started = performance.now();
    const code = await run(['build'], log, { ...env, NEXT_TELEMETRY_DISABLED: '1' });
    if (code !== 0) return false;
    writeFileSync(HASH_FILE, hash);
    log.info({ seconds: Math.round((performance.now() - started) / 100) / 10 }, 'web console built');
    return true;
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export interface ConsoleProcessOptions {
  config: ConsoleConfig;
  /** The port asked for: --console-port, VIGIL_CONSOLE_PORT or console.port. */
  port: number;
  /**
   * Whether that port was asked for on the command line or in the environment: then a busy port
   * leaves the console off with an error, where the config's port gives way to a free one.
   */
  portIsExplicit: boolean;
  /** Called with the console's URL each time it listens. */
  onListening?(url: string): void;
  /** Where the console reaches this node's /api/v1. */
  apiUrl: string;
  /** The node's host, the console's default. */
  host: string;
  log: Logger;
}

/**
 * The web console as its own process (Next.js behind console-server.mjs), so that rendering pages never runs on the
 * router's event loop. It is restarted if it dies (after 2 s, then up to 30 s between tries) and
 * stopped with the node.
 */
export class ConsoleProcess {
  private child: ChildProcess | undefined;
  private stopped = false;
  private boundPort: number | undefined;
  private failures = 0;

  constructor(private readonly o: ConsoleProcessOptions) {}

  async start(): Promise<void> {
    const log = this.o.log;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      VIGIL_API_URL: this.o.apiUrl,
      VIGIL_TRUSTED_PROXIES: this.o.config.trusted_proxies.join(','),
      ...(this.o.config.prometheus_url ? { VIGIL_PROMETHEUS_URL: this.o.config.prometheus_url } : {}),
    };
    if (!existsSync(NEXT_BIN)) {
      log.error('the web console is not installed (node_modules/next is missing); run npm install');
      return;
    }
    if (!(await ensureBuilt(log, env))) return;
    if (this.stopped) return;
    const port = await this.choosePort();
    if (port === undefined || this.stopped) return;
    this.spawn(env, port);
  }

  private get host(): string {
    return this.o.config.host ?? this.o.host;
  }

  /**
   * The port to listen on, found free now: two nodes started from two examples both ask for
   * 3000, and the second's console used to fail after its build with a raw EADDRINUSE.
   */
  private async choosePort(): Promise<number | undefined> {
    const busy = await portUnavailable(this.host, this.o.port);
    if (busy === null) return this.o.port;
    const where = `${this.host}:${this.o.port}`;
    if (this.o.portIsExplicit || busy !== 'EADDRINUSE') {
      this.o.log.error(
        { port: this.o.port, error: busy },
        `the web console cannot listen on ${where} (${busy}); it is off. Choose another port with --console-port N or VIGIL_CONSOLE_PORT`,
      );
      return undefined;
    }
    this.o.log.warn(
      { port: this.o.port },
      `${where} is in use, so the web console takes a free port; --console-port N or VIGIL_CONSOLE_PORT picks one`,
    );
    return 0;
  }

  private spawn(env: NodeJS.ProcessEnv, port: number): void {
    const host = this.host;
    const child = spawn(process.execPath, [SERVER_SCRIPT, '--port', String(port), '--host', host], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const log = this.o.log;
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        const m = /Local:\s+(\S+)/.exec(line);
        if (m) {
          // The URL the server printed: it names the real port when port 0 was asked for.
          log.info({ url: m[1] }, `web console listening on ${m[1]}`);
          this.boundPort = Number(new URL(m[1]!).port);
          this.o.onListening?.(m[1]!);
        } else log.debug({ component: 'console' }, line.trim());
      }
    };
    child.stdout!.on('data', relay);
    child.stderr!.on('data', (chunk: Buffer) => log.warn({ component: 'console' }, chunk.toString().trim()));
    child.on('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopped) return;
      this.failures++;
      const delay = Math.min(30_000, 2000 * 2 ** (this.failures - 1));
      log.error({ code, signal, retry_in_ms: delay }, 'web console exited; restarting it');
      // A restart keeps the port: the console's URL has been printed and recorded.
      setTimeout(() => !this.stopped && this.spawn(env, this.boundPort ?? port), delay).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((res) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        res();
      });
      child.kill('SIGTERM');
    });
  }
}
