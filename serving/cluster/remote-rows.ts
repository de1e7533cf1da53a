/**
 * How a node follows counts that other nodes write. Each node stores its own rows (absolute
 * counts per node and bucket); a reader fetches the rows that changed since its last read and
 * needs only the increase since it last saw each row, to add into its in-memory store (the SLI
 * window, the request history, the live window). Reading a row twice therefore adds nothing.
 *
 * "Changed since" compares the database's `updated_at` with the newest one seen, less a margin:
 * a row's `updated_at` is set when its statement runs, and a transaction that commits a little
 * later than another's can carry the older time. Rows inside the margin are simply read again.
 */
export class RemoteRows<T> {
  private readonly seen = new Map<string, T>();
  private newest: number | undefined;
  /** Rows that changed after they were forgotten (see `absorb`), since the start. */
  lateRows = 0;

  constructor(
    /** Identifies a row: node plus the row's own key. */
    private readonly keyOf: (row: T) => string,
    /** now minus before, or undefined when nothing grew (before is undefined for a new row). */
    private readonly increase: (now: T, before: T | undefined) => T | undefined,
    private readonly marginMs = 10_000,
    /**
     * Rows this says are settled are forgotten by `forget`, and one that changes afterwards is
     * not added again (its increase cannot be known): only a node that could not write for
     * longer than the settling time does that. Memory stays bounded by the recent rows.
     */
    private readonly settled: (row: T) => boolean = () => false,
  ) {}

  /** Where the next read starts: undefined before the first read (read everything in range). */
  since(): Date | undefined {
    return this.newest === undefined ? undefined : new Date(this.newest - this.marginMs);
  }

  /** Takes a read's rows; returns the increases to add. */
  absorb(rows: readonly (T & { updatedAt: Date })[]): T[] {
    const out: T[] = [];
    // The first read takes every row in range, settled or not.
    const first = this.newest === undefined;
    for (const row of rows) {
      const at = row.updatedAt.getTime();
      if (this.newest === undefined || at > this.newest) this.newest = at;
      const key = this.keyOf(row);
      const before = this.seen.get(key);
      if (before === undefined && !first && this.settled(row)) {
        this.lateRows++;
        continue;
      }
      const inc = this.increase(row, before);
      this.seen.set(key, row);
      if (inc !== undefined) out.push(inc);
    }
    // Until a first row is seen every read reads the whole range, which is then empty and cheap.
    // (The database's clock, not ours, places the cursor.)
    return out;
  }

  /** Forgets the settled rows (and any the store no longer keeps). */
  forget(drop: (row: T) => boolean = () => false): void {
    for (const [key, row] of this.seen) if (this.settled(row) || drop(row)) this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }
}
