/**
 * The provider probe, run as its own short-lived process by provider-probe.ts: it tries to open
 * each model on each candidate execution provider in turn, until one loads, and prints what it
 * found as one JSON line. Native libraries print their complaints (ONNX Runtime's missing CUDA
 * bridge, Dawn's missing Vulkan) to this process's stderr; the parent keeps them for its debug
 * log, so they never reach a newcomer's terminal as if something were broken. Before each try it
 * writes a marker line to stderr (synchronous on a pipe), so that each complaint can be told to
 * the try that caused it.
 */
import * as ort from 'onnxruntime-node';
import type { ProbeRequest, ProbeTry } from './provider-probe.ts';

const STDERR_MARKER = '\u0001vigil-probe'; // provider-probe.ts splits stderr at it

const requests = JSON.parse(process.argv[2] ?? '[]') as ProbeRequest[];
const results: Record<string, ProbeTry[]> = {};
for (const r of requests) {
  const tries: ProbeTry[] = [];
  for (const provider of r.candidates) {
    process.stderr.write(`${STDERR_MARKER} ${r.key} ${provider}\n`);
    try {
      const session = await ort.InferenceSession.create(r.model, { executionProviders: [provider] });
      await session.release();
      tries.push({ provider, ok: true });
      break;
    } catch (err) {
      tries.push({ provider, ok: false, error: String((err as Error).message ?? err) });
    }
  }
  results[r.key] = tries;
}
process.stdout.write(`${JSON.stringify(results)}\n`);
