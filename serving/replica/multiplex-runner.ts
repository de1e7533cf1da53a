import { join } from 'node:path';
import { VigilError } from '../errors.ts';
import type { OnnxRunner } from './onnx-runner.ts';
import type { DeploymentRunner, RunItem, RunResult, RunnerInfo } from './runner.ts';

export interface MultiplexEvent {
  loaded: string[];
  loadedNow?: string;
  evicted?: string;
  loadSeconds?: number;
}

export interface MultiplexRunnerOptions {
  modelsDir: string;
  maxModels: number;
  provider: string;
  /** Loads one model file into a session (OnnxRunner.create with the replica's provider settings). */
  load(path: string): Promise<OnnxRunner>;
  /** Told after every load and eviction, so the primary's router and metrics follow. */
  onChange(event: MultiplexEvent): void;
}

interface Entry {
  runner: Promise<OnnxRunner>;
  /** Batches using it right now: an entry in use is never evicted. */
  inUse: number;
}

/** Model ids are file names without `.onnx`; the pattern also keeps them inside models_dir. */
export const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Many models of one shape in one replica, as Ray Serve's @serve.multiplexed: each item names its
 * model; a model is loaded on first use and kept while it is among the `maxModels` most recently
 * used, the least recently used idle one being released when another must load. Items of
 * different models never share a run (the batch key starts with the model id).
 */
export class MultiplexRunner implements DeploymentRunner {
  readonly info: RunnerInfo;
  /** Insertion order is recency: a use moves the entry to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: MultiplexRunnerOptions) {
    this.info = { kind: 'multiplex', signature: { inputs: [], outputs: [] }, provider: o.provider, batchable: true };
  }

  batchKey(item: RunItem): string {
    let key = `${item.modelId ?? ''}|`;
    for (const t of [...item.inputs].sort((a, b) => (a.name < b.name ? -1 : 1)))
      key += `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')};`;
    return key;
  }

  async runBatch(items: RunItem[]): Promise<RunResult[]> {
    const id = items[0]?.modelId;
    if (id === undefined || !MODEL_ID.test(id))
      return items.map(() => ({ ok: false, code: 'VIGIL_ERR_MISSING_MODEL_ID', detail: 'send x-vigil-model-id' }));
    let entry: Entry;
    try {
      entry = await this.acquire(id);
    } catch (err) {
      return items.map(() => ({
        ok: false,
        code: 'VIGIL_ERR_UNKNOWN_MODEL_ID',
        detail: `model "${id}" could not be loaded: ${String((err as Error).message).slice(0, 200)}`,
      }));
    }
    try {
      return await (await entry.runner).runBatch(items);
    } finally {
      entry.inUse--;
    }
  }

  /** The loaded model ids, least recently used first. */
  loaded(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map(async (e) => (await e.runner).close()));
  }

  private async acquire(id: string): Promise<Entry> {
    const existing = this.entries.get(id);
    if (existing) {
      this.entries.delete(id);
      this.entries.set(id, existing);
      existing.inUse++;
      await existing.runner;
      return existing;
    }
    const started = performance.now();
    const entry: Entry = { runner: this.o.load(join(this.o.modelsDir, `${id}.onnx`)), inUse: 1 };
    this.entries.set(id, entry);
    try {
      await entry.runner;
    } catch (err) {
      this.entries.delete(id);
      throw err;
    }
    this.o.onChange({ loaded: this.loaded(), loadedNow: id, loadSeconds: (performance.now() - started) / 1000 });
    this.evictBeyondLimit();
    return entry;
  }

  private evictBeyondLimit(): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.o.maxModels) return;
      if (e.inUse > 0) continue;
      this.entries.delete(id);
      void e.runner.then((r) => r.close()).catch(() => undefined);
      this.o.onChange({ loaded: this.loaded(), evicted: id });
    }
  }
}

export function assertModelId(id: string): void {
  if (!MODEL_ID.test(id))
    throw new VigilError(
      'VIGIL_ERR_UNKNOWN_MODEL_ID',
      `"${id.slice(0, 60)}" is not a model id (letters, digits, ".", "_" and "-")`,
    );
}
