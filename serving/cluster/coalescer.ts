/**
 * Runs reloads one at a time per key, and never more often than needed: a request for a key
 * whose reload is running makes it run once more afterwards (the running one may have read
 * before the change that asked), however many requests came meanwhile.
 */
export class Coalescer {
  private readonly running = new Map<string, { again: boolean; done: Promise<void> }>();

  run(key: string, work: () => Promise<unknown>): Promise<void> {
    const current = this.running.get(key);
    if (current) {
      current.again = true;
      return current.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await work();
        } while (entry.again);
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, entry);
    return entry.done;
  }
}
