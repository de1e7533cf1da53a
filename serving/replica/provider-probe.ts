import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import type { ExecutionProviderChoice } from '../config/schema.ts';
import { providerCandidates } from './execution-provider.ts';

/** One model to open, and the providers to try for it, in order. */
export interface ProbeRequest {
  key: string;
  model: string;
  candidates: string[];
}

/** One try: the provider loaded the model, or the error ONNX Runtime gave. */
export interface ProbeTry {
  provider: string;
  ok: boolean;
  error?: string;
}

/** What the probe found for one model: the provider to use, why the others were passed over. */
export interface ProbeOutcome {
  chosen: string | undefined;
  /** Provider -> a short reason, in the order tried. */
  skipped: Array<{ provider: string; reason: string }>;
  /** What the native libraries printed while each provider was tried: for the debug log. */
  detail: Record<string, string>;
}

const MARKER = '\u0001vigil-probe';
const PROBE_TIMEOUT_MS = 60_000;

/** The requests for a choice worth probing: an accelerator may be tried, and the model is a file. */
export function probeRequest(
  key: string,
  model: string | undefined,
  choice: ExecutionProviderChoice,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): ProbeRequest | undefined {
  if (choice === 'cpu' || model === undefined || !existsSync(model)) return undefined;
  return { key, model, candidates: providerCandidates(choice, platform, arch) };
}

/**
 * Tries the providers in one short-lived process, once per node rather than once per replica,
 * so the native noise of the providers that fail is caught rather than printed (issue 19).
 * Resolves with an outcome per request key, or rejects if the probe itself failed (then each
 * replica tries the providers itself, as it always could).
 */
export function probeProviders(requests: ProbeRequest[]): Promise<Map<string, ProbeOutcome>> {
  if (requests.length === 0) return Promise.resolve(new Map());
  const entry = fileURLToPath(new URL('./provider-probe-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, JSON.stringify(requests)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A start that fails early (a locked database) must not leave the probe behind.
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the provider probe did not finish within ${PROBE_TIMEOUT_MS / 1000} s`));
    }, PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let tries: Record<string, ProbeTry[]>;
      try {
        tries = JSON.parse(out) as Record<string, ProbeTry[]>;
      } catch {
        reject(new Error(`the provider probe exited (${signal ?? code}) without a result: ${err.slice(-300)}`));
        return;
      }
      const noise = splitByTry(err);
      const outcomes = new Map<string, ProbeOutcome>();
      for (const r of requests) {
        const list = tries[r.key] ?? [];
        const detail: Record<string, string> = {};
        const skipped = [];
        for (const t of list) {
          const printed = noise.get(`${r.key} ${t.provider}`) ?? '';
          if (printed) detail[t.provider] = printed;
          if (!t.ok) skipped.push({ provider: t.provider, reason: failureReason(t.error ?? '', printed) });
        }
        outcomes.set(r.key, { chosen: list.find((t) => t.ok)?.provider, skipped, detail });
      }
      resolve(outcomes);
    });
  });
}

/** The probe's stderr, cut at its markers: what was printed during each try. */
function splitByTry(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of stderr.split('\n')) {
    if (line.startsWith(MARKER)) {
      current = line.slice(MARKER.length + 1);
      continue;
    }
    if (current === undefined || !line.trim()) continue;
    // ONNX Runtime colours its errors for a terminal; the log is not one.
    const plain = stripVTControlCharacters(line).trim();
    if (plain) out.set(current, out.has(current) ? `${out.get(current)}\n${plain}` : plain);
  }
  return out;
}

/**
 * A reason short enough for one line, e.g. "libonnxruntime_providers_shared.so not found" or "no
 * WebGPU adapter (libvulkan.so.1 not found)", from ONNX Runtime's error and what was printed.
 */
export function failureReason(error: string, printed: string): string {
  const missing = (text: string) => {
    const m = /Failed to load library (\S+) with error: .*?(cannot open shared object file[^\n]*)/.exec(text);
    if (!m) return undefined;
    return /No such file/.test(m[2]!) ? `${basename(m[1]!)} not found` : `${basename(m[1]!)}: ${m[2]}`;
  };
  if (/Failed to get a WebGPU adapter/.test(error)) {
    const vulkan = /Couldn't load Vulkan: ([^:\s]+)/.exec(printed);
    return vulkan ? `no WebGPU adapter (${vulkan[1]} not found)` : 'no WebGPU adapter';
  }
  const lib = missing(printed) ?? missing(error);
  if (lib) return lib;
  if (/backend not found/.test(error)) return 'not in this build of onnxruntime-node';
  const first = error
    .split('\n')[0]!
    .replace(/^\/onnxruntime_src\/\S+ /, '')
    .trim();
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

/** One line: "cpu (cuda: libcudart.so.12 not found; webgpu: no WebGPU adapter)". */
export function describeOutcome(o: ProbeOutcome): string {
  const why = o.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
  return `${o.chosen ?? 'none'}${why ? ` (${why})` : ''}`;
}
