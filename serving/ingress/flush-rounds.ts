/**
 * When to ask the data-plane processes for their reports so that a control read (a scrape, a
 * console poll) counts every response sent before it arrived. Each round interrupts every
 * replica's event loop, so rounds start at least `minGapMs` apart however fast clients poll. A
 * read waits for the next round that starts after it arrived. That round covers it, and every
 * read arriving meanwhile shares it. Rounds may overlap: a replica busy with a long run answers
 * late, and a read should not wait for an earlier round to give up on it first.
 */
export interface FlushRoundsOptions {
  /** Runs one round: resolves once every process has reported (or given up on). */
  round(): Promise<void>;
  minGapMs: number;
  now(): number;
  /** setTimeout, injectable with the clock; 0 is the next turn of the event loop (setImmediate). */
  wait(ms: number): Promise<void>;
}

export class FlushRounds {
  private next: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: FlushRoundsOptions) {}

  /** Resolves after a round that started after this call. */
  settle(): Promise<void> {
    this.next ??= this.startNext();
    return this.next;
  }

  private async startNext(): Promise<void> {
    // At least a turn of the event loop: the reads and reports already waiting there come first.
    // (It also means `next` is set before it is cleared below.)
    await this.o.wait(Math.max(0, this.lastStart + this.o.minGapMs - this.o.now()));
    // From here on, a new read needs a later round: this one's requests may already be out.
    this.next = undefined;
    this.lastStart = this.o.now();
    await this.o.round().catch(() => undefined);
  }
}
