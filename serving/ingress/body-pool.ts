/**
 * Inference request bodies, reused. A body is a Buffer of its own outside the JavaScript heap
 * (read-body.ts), and at saturation each lives as long as its request waits for the replica, so
 * it outlives young-generation collections. V8 counts that memory and starts a full, marking
 * collection of the whole heap every 64 MB of it ("external memory pressure"): measured on the
 * example model (110 KB bodies), about one per replica per 500 requests, each 5-25 ms of the
 * event loop plus the marking threads (decision 0015). A body handed back once its request is
 * answered is filled again by the next request of a similar size, and allocates nothing.
 *
 * Only what `take` lent is taken back, once: a Buffer given back twice, or one the pool never
 * lent, is ignored, so one request can never be handed memory that another still reads. A body
 * that is not given back (a failed request, a handler that may keep its inputs) is simply
 * collected as before.
 */
export class BodyPool {
  /** Free buffers by capacity: powers of two from MIN_POOLED to MAX_POOLED bytes. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers out on loan; weak, so a body never given back is still collected. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;
  /** Whether a pooled body was taken since the last `trimIfIdle`. */
  private usedSinceTrim = false;

  constructor(
    /** The most memory the free lists hold; a body given back past it is left to the collector. */
    private readonly maxFreeBytes = 64 * 1024 * 1024,
  ) {}

  /**
   * A Buffer of exactly `size` bytes, uninitialised (as Buffer.allocUnsafeSlow): the caller fills
   * every byte it reads. Sizes outside the pooled range get a buffer of their own.
   */
  take(size: number): Buffer {
    if (size < MIN_POOLED || size > MAX_POOLED) return Buffer.allocUnsafeSlow(size);
    const capacity = capacityFor(size);
    this.usedSinceTrim = true;
    const reused = this.free.get(capacity)?.pop();
    let memory: ArrayBuffer;
    if (reused) {
      this.freeBytes -= capacity;
      memory = reused;
    } else {
      memory = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer;
    }
    this.lent.add(memory);
    return Buffer.from(memory, 0, size);
  }

  /** Takes back the memory under `body` (any view of a buffer `take` lent), for the next request. */
  give(body: Buffer): void {
    const memory = body.buffer as ArrayBuffer;
    if (!this.lent.has(memory)) return;
    this.lent.delete(memory);
    const capacity = memory.byteLength;
    if (this.freeBytes + capacity > this.maxFreeBytes) return;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    list.push(memory);
    this.freeBytes += capacity;
  }

  /**
   * Lets the collector have the free lists when no pooled body was taken since the last call: a
   * burst of large bodies should not pin its memory in a process that has gone quiet. Called on
   * an interval (ingress-service.ts); a busy process keeps its buffers.
   */
  trimIfIdle(): void {
    if (!this.usedSinceTrim) {
      this.free.clear();
      this.freeBytes = 0;
    }
    this.usedSinceTrim = false;
  }

  /** Bytes held in the free lists now. */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

/** Smaller bodies come from node's own slab or cost too little to matter. */
export const MIN_POOLED = 16 * 1024;
/** Larger bodies are rare enough to allocate, and would pin too much memory idle. */
export const MAX_POOLED = 16 * 1024 * 1024;

function capacityFor(size: number): number {
  return 2 ** Math.ceil(Math.log2(size));
}
