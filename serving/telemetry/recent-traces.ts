/** One sampled inference request, for the console's "recent traces" list. */
export interface TraceEntry {
  traceId: string;
  at: number;
  deployment: string;
  version: string;
  status: number;
  durationMs: number;
}

/**
 * The last N sampled requests, newest first: a fixed ring so that a busy node costs the same
 * memory as a quiet one. Errors are what on-call opens first, so they get a ring of their own
 * and a flood of successes does not push them out.
 */
export class RecentTraces {
  private readonly ok: TraceEntry[] = [];
  private readonly failed: TraceEntry[] = [];

  constructor(private readonly capacity = 50) {}

  add(e: TraceEntry): void {
    const ring = e.status >= 500 ? this.failed : this.ok;
    ring.unshift(e);
    if (ring.length > this.capacity) ring.pop();
  }

  list(): TraceEntry[] {
    return [...this.ok, ...this.failed].sort((a, b) => b.at - a.at);
  }
}
