/**
 * When to ask the data-plane processes for their reports so that a control read (a scrape, a
 * console poll) counts every response sent before it arrived. Each round interrupts every
 * replica's event loop, so rounds are bounded however fast clients poll: one in flight at a
 * time, and rounds start at least `minGapMs` apart. A read waits for the next round that starts
 * after it arrived. That round covers it, and every read arriving meanwhile shares it.
 */
export interface FlushRoundsOptions {
  /** Runs one round: resolves once every process has reported (or given up on). */
  round(): Promise<void>;
  minGapMs: number;
  now(): number;
  /** setTimeout, injectable with the clock. */
  wait(ms: number): Promise<void>;
}

export class FlushRounds {
  private next: Promise<void> | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: FlushRoundsOptions) {}

  /** Resolves after a round that started after this call. */
  settle(): Promise<void> {
    this.next ??= this.startNext();
    return this.next;
  }

  private async startNext(): Promise<void> {
    // Not before the round in flight ends (it may have passed a process already), nor sooner
    // than minGapMs after it started.
    await this.inFlight;
    const gap = this.lastStart + this.o.minGapMs - this.o.now();
    if (gap > 0) await this.o.wait(gap);
    // From here on, a new read needs a later round: this one's requests may already be out.
    this.next = undefined;
    this.lastStart = this.o.now();
    this.inFlight = this.o.round().catch(() => undefined);
    await this.inFlight;
  }
}
