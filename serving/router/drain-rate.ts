/**
 * Measures how fast a deployment completes requests, to tell shed clients when to come back
 * (Retry-After). An exponentially weighted rate over one-second buckets, with an injected clock.
 */
export class DrainRate {
  private bucketStart: number;
  private bucketCount = 0;
  private rate = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly alpha = 0.3,
  ) {
    this.bucketStart = now();
  }

  record(): void {
    this.roll();
    this.bucketCount++;
  }

  /** Completions per second, smoothed. */
  perSecond(): number {
    this.roll();
    return this.rate;
  }

  /** Seconds until `queued` requests would drain, clamped to [1, 60] and rounded up. */
  retryAfterSeconds(queued: number): number {
    // A stalled deployment (no completions measured) is told to wait as if it drained one per
    // second: a short Retry-After during a stall would only bring every client back at once.
    const rate = Math.max(this.perSecond(), 1);
    return Math.min(60, Math.max(1, Math.ceil(queued / rate)));
  }

  private roll(): void {
    const now = this.now();
    while (now - this.bucketStart >= 1000) {
      this.rate = this.alpha * this.bucketCount + (1 - this.alpha) * this.rate;
      this.bucketCount = 0;
      this.bucketStart += 1000;
      // After a long idle period, skip straight to zero instead of looping per second.
      if (now - this.bucketStart > 60_000) {
        this.rate = 0;
        this.bucketStart = now;
      }
    }
  }
}
