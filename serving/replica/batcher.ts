/**
 * Dynamic batching inside a replica. Items wait until `maxBatchSize` rows of one compatible kind
 * are there or until the oldest has waited `waitMs`, then run together. Only items with the same
 * `key` (same input names, datatypes and non-batch dimensions) share a run.
 *
 * onnxruntime-node's run() blocks the event loop, so while a batch runs new items pile up in the
 * IPC pipe; the next flush is scheduled with setImmediate, after the I/O phase has delivered them,
 * which is what makes batches form under load without adding a wait.
 */
export interface BatchItem {
  key: string;
  rows: number;
  /** performance.now() when the item reached the batcher. */
  enqueuedAt: number;
}

export interface BatcherOptions<T extends BatchItem> {
  maxBatchSize: number;
  waitMs: number;
  run(batch: T[]): Promise<void>;
  now?: () => number;
}

export class Batcher<T extends BatchItem> {
  private readonly queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private readonly now: () => number;

  constructor(private readonly options: BatcherOptions<T>) {
    this.now = options.now ?? (() => performance.now());
  }

  get pending(): number {
    return this.queue.length;
  }

  submit(item: T): void {
    this.queue.push(item);
    if (this.running) return;
    if (this.headRows() >= this.options.maxBatchSize || this.options.waitMs === 0) this.scheduleNow();
    else if (!this.timer && !this.immediate) this.timer = setTimeout(() => this.flush(), this.options.waitMs);
  }

  /** Rows available now for the key at the head of the queue. */
  private headRows(): number {
    const key = this.queue[0]?.key;
    let rows = 0;
    for (const item of this.queue) if (item.key === key) rows += item.rows;
    return rows;
  }

  private scheduleNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate ??= setImmediate(() => this.flush());
  }

  /** Takes the head item and every later item of its key, up to maxBatchSize rows. */
  private take(): T[] {
    const head = this.queue[0]!;
    const batch: T[] = [];
    const rest: T[] = [];
    let rows = 0;
    for (const item of this.queue) {
      if (item.key === head.key && (batch.length === 0 || rows + item.rows <= this.options.maxBatchSize)) {
        batch.push(item);
        rows += item.rows;
      } else {
        rest.push(item);
      }
    }
    this.queue.length = 0;
    this.queue.push(...rest);
    return batch;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    try {
      await this.options.run(this.take());
    } catch {
      // run() owns answering its items; a throw must not strand the items queued behind it.
    } finally {
      this.running = false;
    }
    if (this.queue.length === 0) return;
    // Items that arrived during the run have already waited at least that long.
    const oldest = this.queue[0]!.enqueuedAt;
    if (this.headRows() >= this.options.maxBatchSize || this.now() - oldest >= this.options.waitMs) this.scheduleNow();
    else this.timer = setTimeout(() => this.flush(), Math.max(0, this.options.waitMs - (this.now() - oldest)));
  }
}
