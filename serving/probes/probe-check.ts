import { pathToFileURL } from 'node:url';
import type { ProbeAnswer, ProbeJudgement } from './expectation.ts';

/**
 * A handler-defined check: a module whose default export judges a probe's answer, for what the
 * built-in expectations cannot say (a caption that must mention a word, a box inside a region).
 * It runs in the primary, like the prober, loaded once. A check that throws, or returns anything
 * but a judgement or a boolean, fails the run with that reason: a broken check must not pass.
 */
export type ProbeCheck = (answer: ProbeAnswer) => ProbeJudgement | boolean | Promise<ProbeJudgement | boolean>;

const loaded = new Map<string, Promise<ProbeCheck>>();

function load(file: string): Promise<ProbeCheck> {
  let p = loaded.get(file);
  if (!p) {
    p = import(pathToFileURL(file).href).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw new Error(`${file} has no default export function`);
      return m.default as ProbeCheck;
    });
    loaded.set(file, p);
  }
  return p;
}

export async function runCheck(file: string, answer: ProbeAnswer): Promise<ProbeJudgement> {
  const check = await load(file);
  const verdict = await check(answer);
  if (typeof verdict === 'boolean') return { pass: verdict, detail: verdict ? 'the check passed' : 'the check failed' };
  if (verdict && typeof verdict === 'object' && typeof verdict.pass === 'boolean')
    return { pass: verdict.pass, detail: String(verdict.detail ?? '') };
  throw new Error(`${file} returned neither a boolean nor {pass, detail}`);
}
