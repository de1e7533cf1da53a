import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/**
 * Event-loop lag as the p99 delay over the last complete window (5 s by default). A window,
 * not "since the last scrape", so that two scrapers see the same figure.
 */
export class EventLoopLag {
  private readonly histogram: IntervalHistogram;
  private lastP99Seconds = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = 5000) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lastP99Seconds = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e9 : 0;
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  p99Seconds(): number {
    return this.lastP99Seconds;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
