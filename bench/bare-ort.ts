/**
 * The limit: ONNX Runtime in a loop in one process, no HTTP, no IPC. Same model, same session
 * options as the servers (CPU provider, intraOpNumThreads 1), same input.
 *
 *   node --import tsx bench/bare-ort.ts [--seconds 5] [--batch 1] [--start-at EPOCH_MS] [--rate R]
 *
 * --start-at lets several copies, started at once by bench/run.ts, load first and then measure
 * over the same window. Prints one BENCH_RESULT line.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, makeTensor, SHAPE } from './payload.ts';
import { MODEL } from './payload.ts';
import { emitResult, percentile, sleep } from './proc.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '1' },
    'start-at': { type: 'string' },
    rate: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const batch = Number(values.batch);
// --rate R: one run every 1/R s with the process idle in between, as a server sees at low load.
const interval = values.rate ? 1000 / Number(values.rate) : 0;

const session = await ort.InferenceSession.create(MODEL, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionProviders: ['cpu'],
});
const input = new ort.Tensor('float32', makeTensor(batch), [batch, ...SHAPE.slice(1)]);
for (let i = 0; i < 20; i++) await session.run({ [INPUT_NAME]: input });

if (values['start-at']) await sleep(Math.max(0, Number(values['start-at']) - Date.now()));

const times: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const end = t0 + seconds * 1000;
let now = t0;
while (now < end) {
  if (interval > 0) await sleep(Math.max(0, t0 + times.length * interval - performance.now()));
  const s = performance.now();
  await session.run({ [INPUT_NAME]: input });
  now = performance.now();
  times.push(now - s);
}
const elapsed = (now - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sorted = Float64Array.from(times).sort();
emitResult({
  batch,
  runs: times.length,
  items: times.length * batch,
  seconds: elapsed,
  itemsPerSec: (times.length * batch) / elapsed,
  runP50Ms: percentile(sorted, 50),
  runP99Ms: percentile(sorted, 99),
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
});
