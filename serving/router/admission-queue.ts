/**
 * A bounded FIFO of requests waiting for a replica slot. Removal from the middle (a deadline that
 * passes while queued) is lazy: the entry is marked and skipped, so both ends stay O(1).
 */
export interface Waiter<T> {
  grant(slot: T): void;
  cancelled: boolean;
}

export class AdmissionQueue<T> {
  private items: Waiter<T>[] = [];
  private head = 0;
  private live = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.live;
  }

  get full(): boolean {
    return this.live >= this.capacity;
  }

  push(waiter: Waiter<T>): void {
    this.items.push(waiter);
    this.live++;
  }

  /** Marks a waiter as gone; it will be skipped when it reaches the head. */
  cancel(waiter: Waiter<T>): void {
    if (waiter.cancelled) return;
    waiter.cancelled = true;
    this.live--;
  }

  /** The oldest waiter that is still waiting, left in place. */
  peek(): Waiter<T> | undefined {
    while (this.head < this.items.length && this.items[this.head]!.cancelled) this.head++;
    return this.items[this.head];
  }

  /** The oldest waiter that is still waiting. */
  shift(): Waiter<T> | undefined {
    while (this.head < this.items.length) {
      const w = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (!w.cancelled) {
        this.live--;
        // Mark as taken so a late cancel() does not count it twice.
        w.cancelled = true;
        return w;
      }
    }
    return undefined;
  }

  /** Removes and returns every waiter, e.g. to fail them all at shutdown. */
  drain(): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (let w = this.shift(); w; w = this.shift()) out.push(w);
    return out;
  }
}
